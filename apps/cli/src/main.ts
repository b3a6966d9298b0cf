#!/usr/bin/env node
import 'reflect-metadata';
import { run } from './cli.js';

// eslint-disable-next-line no-restricted-syntax -- the CLI's entry reads the environment once and hands it down (STYLE.md §4)
const env = process.env;

process.exitCode = await run(process.argv.slice(2), env, {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
// Every connection is closed by now; should a library still hold the event loop open, do not hang
// the shell (unref'd: it only fires if something else keeps the process alive).
setTimeout(() => process.exit(), 2_000).unref();
