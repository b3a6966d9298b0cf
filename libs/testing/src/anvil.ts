import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { JsonRpcProvider, Network } from 'ethers';

/** The public "test … junk" mnemonic anvil (and hardhat) derive their dev accounts from. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export const ANVIL_CHAIN_ID = 31337;

/** Private keys of accounts 0..9 of ANVIL_MNEMONIC (m/44'/60'/0'/0/i), each funded with 10,000 ETH. */
export const ANVIL_PRIVATE_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const;

export interface StartAnvilOptions {
  /** Interval mining every N seconds (in addition to mining each tx). Default: automine only. */
  blockTime?: number;
  /** Default ANVIL_CHAIN_ID. */
  chainId?: number;
  /** Further anvil flags, e.g. `['--state', '.data/anvil.json']`. */
  extraArgs?: readonly string[];
  /** Default: the binary from the installed @foundry-rs/anvil platform package. */
  binaryPath?: string;
  /** How long to wait for anvil to listen. Default 15 s. */
  startupTimeoutMs?: number;
}

export interface AnvilInstance {
  url: string;
  port: number;
  /** Fixed to the chain id, polls every 50 ms and caches nothing, so reads right after a tx are fresh. */
  provider: JsonRpcProvider;
  /** Kills anvil and destroys the provider; safe to call twice. */
  stop(): Promise<void>;
}

const LISTENING = /Listening on ([\d.]+):(\d+)/;

// Every anvil still running when this process exits is killed, so a crashed or forgotten test
// never leaves a chain behind. One shared handler keeps `process` below its listener limit.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Path of the anvil binary that npm installed for this platform (via @foundry-rs/anvil). */
export function anvilBinaryPath(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const pkgDir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    return join(pkgDir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch {
    throw new Error(
      `anvil binary not found: package ${pkg} is not installed. Run \`npm install\` (devDependency @foundry-rs/anvil).`,
    );
  }
}

/**
 * Spawns a fresh anvil on a free loopback port (`--port 0`) and resolves once it listens.
 *
 * `--silent` is not used: in anvil 1.7.1 it also suppresses the "Listening on" line, the only
 * race-free way to learn the port. The request log it would hide is drained and discarded instead.
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? ANVIL_CHAIN_ID;
  const binary = options.binaryPath ?? anvilBinaryPath();
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId)];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  args.push(...(options.extraArgs ?? []));

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));

  let port: number;
  try {
    port = await waitForPort(child, binary, options.startupTimeoutMs ?? 15_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, Network.from(chainId), {
    staticNetwork: true,
    pollingInterval: 50,
    cacheTimeout: -1,
  });

  return {
    url,
    port,
    provider,
    stop: async () => {
      provider.destroy();
      await terminate(child);
    },
  };
}

function waitForPort(child: ChildProcess, binary: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let found = false;
    const timer = setTimeout(
      () => settle(new Error(`anvil did not report a port within ${timeoutMs} ms: ${stderr || stdout}`)),
      timeoutMs,
    );
    function settle(result: number | Error): void {
      if (found) return;
      found = true;
      clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    // Keeps reading for anvil's whole life: an undrained pipe would eventually block it.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (found) return;
      stdout += chunk.toString();
      const match = LISTENING.exec(stdout);
      if (match) settle(Number(match[2]));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!found) stderr += chunk.toString();
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      settle(
        err.code === 'ENOENT'
          ? new Error(
              `anvil binary not found at ${binary}. Run \`npm install\` (devDependency @foundry-rs/anvil).`,
            )
          : err,
      ),
    );
    child.once('exit', (code, signal) =>
      settle(new Error(`anvil exited before listening (code ${code}, signal ${signal}): ${stderr.trim()}`)),
    );
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const escalate = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(escalate);
}
