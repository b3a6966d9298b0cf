import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAnvil, type AnvilInstance } from '#app/testing';
import { buildCli, runCli, runCliJson } from './cli-process.js';

// The built `ticketpay` CLI beside a local stack as a newcomer has it: `dev fund` on anvil (and
// refused elsewhere), and the tickets commands finding the stack's Postgres without DATABASE_URL.

const ETH = 10n ** 18n;
const someone = Wallet.createRandom().address;

let anvil: AnvilInstance;
let notAnvilChain: AnvilInstance;
let dir: string;

/** A state dir as `npm start` leaves it while running: its settings file and its pid. */
async function runningStack(
  name: string,
  settings: Record<string, string>,
  pid = process.pid,
): Promise<string> {
  const stateDir = join(dir, name);
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true });
  const lines = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await writeFile(join(stateDir, 'local-stack.env'), `# written by npm start\n${lines.join('\n')}\n`);
  await writeFile(join(stateDir, 'stack.pid'), String(pid));
  return stateDir;
}

beforeAll(async () => {
  await buildCli();
  [anvil, notAnvilChain] = await Promise.all([startAnvil(), startAnvil({ chainId: 42161 })]);
  dir = await mkdtemp(join(tmpdir(), 'ticketpay-cli-stack-'));
});

afterAll(async () => {
  await Promise.all([anvil?.stop(), notAnvilChain?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ticketpay dev fund', () => {
  it('adds dev ETH to any account on anvil: 100 ETH by default, or the amount given', async () => {
    const env = { ETH_RPC_URL: anvil.url, TICKETPAY_STATE_DIR: join(dir, 'none') };
    const first = await runCliJson<{ address: string; added: string; balance: string }>(
      ['dev', 'fund', someone],
      env,
    );
    expect(first).toMatchObject({ address: someone, added: String(100n * ETH), balance: String(100n * ETH) });
    const human = await runCli(['dev', 'fund', someone.toLowerCase(), '1.5eth'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/added\s+1\.5 ETH/);
    expect(human.stdout).toMatch(/balance\s+101\.5 ETH/);
    expect(await anvil.provider.getBalance(someone)).toBe(101n * ETH + ETH / 2n);
  });

  it('refuses a chain that is not anvil, changing nothing', async () => {
    const before = await notAnvilChain.provider.getBalance(someone);
    const run = await runCli(['dev', 'fund', someone], {
      ETH_RPC_URL: notAnvilChain.url,
      TICKETPAY_STATE_DIR: join(dir, 'none'),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'dev fund only works on a local anvil (chain id 31337); this RPC serves chain 42161',
    );
    expect(await notAnvilChain.provider.getBalance(someone)).toBe(before);
  });

  it('refuses bad input with a usage error', async () => {
    const env = { ETH_RPC_URL: anvil.url, TICKETPAY_STATE_DIR: join(dir, 'none') };
    for (const args of [['0x1234'], [someone, '0'], [someone, '-1eth'], [someone, '1.5']]) {
      const run = await runCli(['dev', 'fund', ...args], env);
      expect(run.code, args.join(' ')).toBe(2);
    }
    expect((await runCli(['dev', 'fund'], env)).stderr).toContain('missing argument');
  });

  it("uses the running stack's anvil when ETH_RPC_URL is unset", async () => {
    const stateDir = await runningStack('with-chain', { ETH_RPC_URL: anvil.url });
    const other = Wallet.createRandom().address;
    await runCliJson(['dev', 'fund', other, '2eth'], { TICKETPAY_STATE_DIR: stateDir });
    expect(await anvil.provider.getBalance(other)).toBe(2n * ETH);
  });
});

describe('ticketpay tickets list without DATABASE_URL', () => {
  it("reads the running stack's Postgres", async () => {
    const stateDir = await runningStack('with-db', { DATABASE_URL: inject('databaseUrl') });
    const list = await runCliJson<{ total: number; tickets: unknown[] }>(['tickets', 'list'], {
      TICKETPAY_STATE_DIR: stateDir,
    });
    expect(list.total).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(list.tickets)).toBe(true);
  });

  it('says what to set when no stack runs', async () => {
    const run = await runCli(['tickets', 'list'], { TICKETPAY_STATE_DIR: join(dir, 'nothing-here') });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('set DATABASE_URL');
    expect(run.stderr).toContain('no local stack runs');
  });

  it('says the stack is not running when its state dir is there but its process is gone', async () => {
    // A settings file left behind by a stack that died: its pid is no longer alive.
    const stateDir = await runningStack('died', { DATABASE_URL: inject('databaseUrl') }, 2 ** 22 + 1);
    const run = await runCli(['tickets', 'list'], { TICKETPAY_STATE_DIR: stateDir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the local stack in ${stateDir} is not running`);
  });

  it('DATABASE_URL wins over the stack', async () => {
    const stateDir = await runningStack('overridden', { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    const list = await runCliJson<{ total: number }>(['tickets', 'list'], {
      TICKETPAY_STATE_DIR: stateDir,
      DATABASE_URL: inject('databaseUrl'),
    });
    expect(list.total).toBeGreaterThanOrEqual(0);
  });
});
