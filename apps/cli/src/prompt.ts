import type { Readable, Writable } from 'node:stream';
import { usageError } from './cli.error.js';

export type PromptInput = Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };

/**
 * Reads a line from the terminal without echoing it (raw mode), for passwords. Only ever called
 * when stdin is a TTY; Ctrl-C cancels.
 */
export function promptHidden(question: string, stdin: PromptInput, stderr: Writable): Promise<string> {
  if (!stdin.isTTY || !stdin.setRawMode) {
    return Promise.reject(usageError('cannot prompt for a password: stdin is not a terminal'));
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  stderr.write(question);
  setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(usageError('cancelled'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
