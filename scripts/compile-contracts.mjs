// Compiles contracts/src/*.sol with solc-js (no network, no downloaded compiler) and writes one
// artifact per deployable contract to contracts/artifacts/<ContractName>.json.
// Skips the work when sources, settings and compiler are unchanged (contracts/artifacts/.build-hash);
// `--force` rebuilds anyway. Exits non-zero with the compiler's messages on failure.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = join(ROOT, 'contracts', 'src');
const OUT_DIR = join(ROOT, 'contracts', 'artifacts');
const HASH_FILE = join(OUT_DIR, '.build-hash');

// What goes into the bytecode; recorded in every artifact.
const SETTINGS = { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun' };
const OUTPUT_SELECTION = { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } };

const started = Date.now();
const force = process.argv.includes('--force');
const files = readdirSync(SRC_DIR)
  .filter((f) => f.endsWith('.sol'))
  .sort();
if (files.length === 0) fail(`no .sol files in ${relative(ROOT, SRC_DIR)}`);
const sources = Object.fromEntries(
  files.map((f) => [f, { content: readFileSync(join(SRC_DIR, f), 'utf8') }]),
);

// The package version identifies the compiler without loading its 9 MB wasm, which keeps the
// up-to-date path fast.
const solcPackageVersion = require('solc/package.json').version;
const buildHash = createHash('sha256')
  .update(JSON.stringify({ solc: solcPackageVersion, settings: SETTINGS, sources }))
  .digest('hex');

if (!force && existsSync(HASH_FILE) && readFileSync(HASH_FILE, 'utf8').trim() === buildHash) {
  console.log(`contracts: up to date (${relative(ROOT, OUT_DIR)})`);
  process.exit(0);
}

const solc = require('solc');
const input = { language: 'Solidity', sources, settings: { ...SETTINGS, outputSelection: OUTPUT_SELECTION } };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport }));

const messages = output.errors ?? [];
const errors = messages.filter((m) => m.severity === 'error');
for (const m of messages) console.error(m.formattedMessage ?? m.message);
if (errors.length > 0) fail(`${errors.length} compiler error(s)`);

const artifacts = [];
for (const contracts of Object.values(output.contracts ?? {})) {
  for (const [contractName, c] of Object.entries(contracts)) {
    // Interfaces and abstract bases have no bytecode and nothing to deploy.
    if (!c.evm.bytecode.object) continue;
    if (artifacts.some((a) => a.contractName === contractName))
      fail(`duplicate contract name ${contractName}`);
    artifacts.push({
      contractName,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      compiler: { version: solc.version(), settings: SETTINGS },
    });
  }
}

mkdirSync(OUT_DIR, { recursive: true });
const keep = new Set(artifacts.map((a) => `${a.contractName}.json`));
for (const f of readdirSync(OUT_DIR)) {
  if (f.endsWith('.json') && !keep.has(f)) rmSync(join(OUT_DIR, f));
}
for (const a of artifacts)
  writeAtomically(join(OUT_DIR, `${a.contractName}.json`), `${JSON.stringify(a, null, 2)}\n`);
// Written last: an interrupted build is never mistaken for an up-to-date one.
writeAtomically(HASH_FILE, `${buildHash}\n`);

const warnings = messages.length - errors.length;
console.log(
  `contracts: compiled ${artifacts.length} contracts from ${files.length} files with solc ${solcPackageVersion}` +
    `${warnings ? ` (${warnings} warning(s))` : ''} in ${Date.now() - started} ms -> ${relative(ROOT, OUT_DIR)}`,
);

/** solc import callback: resolves imports inside contracts/src only. */
function readImport(path) {
  const file = resolve(SRC_DIR, path);
  if (!file.startsWith(SRC_DIR + sep)) return { error: `import outside contracts/src: ${path}` };
  try {
    return { contents: readFileSync(file, 'utf8') };
  } catch {
    return { error: `file not found: ${path}` };
  }
}

/** Readers (e.g. parallel test workers) never see a half-written file. */
function writeAtomically(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

function fail(message) {
  console.error(`contracts: build failed: ${message}`);
  process.exit(1);
}
