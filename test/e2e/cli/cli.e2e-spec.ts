import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Wallet, type JsonRpcProvider } from 'ethers';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bondingManagerAt, roundsManagerAt, ticketBrokerAt, type ProtocolAddresses } from '#app/chain';
import { createDataSource, WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { bullPrefix, QueueName, RedemptionQueue, toWinningTicketRow, type RedeemTicketJob } from '#app/queue';
import {
  ANVIL_PRIVATE_KEYS,
  freePort,
  startAnvil,
  startServiceProcess,
  waitForHttpOk,
  type AnvilInstance,
  type ServiceProcess,
} from '#app/testing';
import {
  MAX_WIN_PROB,
  bytesToBigInt,
  hexToBytes,
  parseAddress,
  recipientRandHash,
  selectCryptoBackend,
  signTicketHash,
  ticketHash,
  type SignedTicket,
} from '#app/ticket';
import { buildCli, runCli, runCliJson, startCli, type CliRun } from './cli-process.js';

// The built `ticketpay` CLI as a child process against a fresh anvil, the run's Postgres and Redis.
// The tests run in order and build on each other: deploy → keystores → sender → recipient → tickets.

const ETH = 10n ** 18n;
const PASSWORD = 'correct horse battery staple';
const deployer = new Wallet(ANVIL_PRIVATE_KEYS[0]);
const senderKey = ANVIL_PRIVATE_KEYS[2];
const sender = new Wallet(senderKey);
const recipient = new Wallet(ANVIL_PRIVATE_KEYS[3]);

let anvil: AnvilInstance;
let provider: JsonRpcProvider;
let dir: string;
let env: Record<string, string>;
let addresses: ProtocolAddresses;
let senderKeystore: string;
let ds: DataSource;
let tickets: WinningTicketRepository;
let redis: Redis;
let queue: Queue<RedeemTicketJob>;
let redeemer: ServiceProcess | undefined;
let redeemerUrl: string;
const OPS_TOKEN = 'cli-e2e-ops-token-0123456789';
const runs: CliRun[] = [];

/** Every run is kept, to check at the end that no secret was ever printed. */
async function cli(...args: string[]): Promise<CliRun> {
  const run = await runCli(args, env);
  runs.push(run);
  return run;
}

async function cliJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const result = await runCliJson<T>(args, env);
  runs.push({ code: 0, stdout: JSON.stringify(result), stderr: '' });
  return result;
}

const asSender = () => ['--keystore', senderKeystore, '--password-file', join(dir, 'password')];

let nonce = 0;

/** A real winning ticket (winProb = max) from `sender` to `recipient`, for the current round. */
async function winningTicket(faceValue: bigint): Promise<SignedTicket> {
  const rounds = roundsManagerAt(addresses.roundsManager, provider);
  const creationRound = await rounds.currentRound();
  const blockHash = await rounds.blockHashForRound(creationRound);
  const recipientRand = bytesToBigInt(randomBytes(32));
  const fields = {
    recipient: parseAddress(recipient.address),
    sender: parseAddress(sender.address),
    faceValue,
    winProb: MAX_WIN_PROB,
    senderNonce: ++nonce,
    recipientRandHash: recipientRandHash(recipientRand),
    creationRound,
    creationRoundBlockHash: hexToBytes(blockHash, 'blockHash', 32),
  };
  const sig = signTicketHash(ticketHash(fields), hexToBytes(senderKey, 'key', 32), selectCryptoBackend());
  // Params that expired a while ago: the Redeemer reveals recipientRand only after that block.
  const paramsExpirationBlock = BigInt(await provider.getBlockNumber()) - 10n;
  return { ...fields, paramsExpirationBlock, sig, recipientRand };
}

/** A stored ticket whose job waits an hour, as the Redeemer holds tickets back until they may go. */
async function delayedTicket(faceValue: bigint): Promise<string> {
  const hash = await storeTicket(faceValue);
  const [row] = await tickets.findByHashes([hash]);
  await new RedemptionQueue(queue, tickets).enqueue(
    { ticketHash: hash, sender: sender.address.toLowerCase(), creationRound: row.creationRound },
    3_600_000,
  );
  await tickets.queue(hash);
  expect(await (await queue.getJob(hash))?.getState()).toBe('delayed');
  return hash;
}

async function storeTicket(faceValue: bigint): Promise<string> {
  const row = toWinningTicketRow(await winningTicket(faceValue));
  expect(await tickets.insertIfAbsent(row)).toBe(true);
  return row.ticketHash;
}

beforeAll(async () => {
  await buildCli();
  anvil = await startAnvil();
  provider = anvil.provider;
  dir = await mkdtemp(join(tmpdir(), 'ticketpay-cli-'));
  await writeFile(join(dir, 'password'), `${PASSWORD}\n`);
  const redisPrefix = `${inject('redisPrefix')}cli-e2e:`;
  env = {
    ETH_RPC_URL: anvil.url,
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: redisPrefix,
    DEPLOYER_KEY: deployer.privateKey,
    SENDER_KEY: senderKey,
    RECIPIENT_KEY: recipient.privateKey,
  };
  ds = await createDataSource(inject('databaseUrl')).initialize();
  tickets = new WinningTicketRepository(ds);
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  queue = new Queue<RedeemTicketJob>(QueueName.TICKET_REDEMPTION, {
    connection: redis,
    prefix: bullPrefix(redisPrefix),
  });
});

afterAll(async () => {
  await redeemer?.stop();
  await queue?.close();
  redis?.disconnect();
  await ds?.destroy();
  await anvil?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ticketpay CLI', () => {
  it('deploys the dev protocol and prints the Controller', async () => {
    const out = await cliJson<{ controller: string; addresses: ProtocolAddresses; owner: string }>(
      'chain',
      'deploy',
      '--private-key-env',
      'DEPLOYER_KEY',
      '--round-length',
      '200',
    );
    expect(out.owner).toBe(deployer.address);
    addresses = out.addresses;
    expect(await provider.getCode(out.controller)).not.toBe('0x');
    env.CONTROLLER_ADDRESS = out.controller;

    const info = await cliJson<{ round: { current: string; initialized: boolean }; paused: boolean }>(
      'chain',
      'info',
    );
    expect(info.paused).toBe(false);
    expect(info.round.initialized).toBe(true);
    expect(info.round.current).toBe('1');
  });

  it('creates, imports and lists encrypted keystores', async () => {
    const ksDir = join(dir, 'keystore');
    const created = await cliJson<{ address: string; file: string }>(
      'keystore',
      'new',
      '--dir',
      ksDir,
      '--password-file',
      join(dir, 'password'),
    );
    const imported = await cliJson<{ address: string; file: string }>(
      'keystore',
      'import',
      '--private-key-env',
      'SENDER_KEY',
      '--dir',
      ksDir,
      '--password-file',
      join(dir, 'password'),
    );
    expect(imported.address).toBe(sender.address);
    senderKeystore = imported.file;
    expect((await stat(senderKeystore)).mode & 0o777).toBe(0o600);
    // A real V3 keystore: ethers decrypts it with the password.
    const decrypted = await Wallet.fromEncryptedJson(await readFile(senderKeystore, 'utf8'), PASSWORD);
    expect(decrypted.address).toBe(sender.address);

    const list = await cliJson<{ keystores: { address: string; file: string }[] }>(
      'keystore',
      'list',
      '--dir',
      ksDir,
    );
    expect(list.keystores.map((k) => k.address).sort()).toEqual([created.address, sender.address].sort());

    const human = await cli('keystore', 'list', '--dir', ksDir);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(created.address);

    const again = await cli('keystore', 'import', '--private-key-env', 'SENDER_KEY', '--dir', ksDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('funds deposit and reserve with ETH units, waiting for confirmations', async () => {
    const deposit = await cliJson<{ amount: string; txHash: string; state: { deposit: string } }>(
      'sender',
      'fund-deposit',
      '1.5eth',
      ...asSender(),
    );
    expect(deposit.amount).toBe((15n * ETH) / 10n + '');
    expect(deposit.state.deposit).toBe(String((15n * ETH) / 10n));
    expect(deposit.txHash).toMatch(/^0x[0-9a-f]{64}$/);

    // Three confirmations: blocks are mined while the CLI waits, and the bar fills on stderr.
    const pending = startCli(
      ['sender', 'fund-reserve', '500000000gwei', ...asSender(), '--confirmations', '3', '--json'],
      env,
    );
    let finished: CliRun | undefined;
    void pending.done.then((r) => (finished = r));
    while (!finished) {
      await provider.send('anvil_mine', ['0x1']);
      await new Promise((r) => setTimeout(r, 300));
    }
    runs.push(finished);
    expect(finished.code, finished.stderr).toBe(0);
    const reserve = JSON.parse(finished.stdout) as {
      confirmations: number;
      state: { reserve: { fundsRemaining: string } };
    };
    expect(reserve.confirmations).toBeGreaterThanOrEqual(3);
    expect(reserve.state.reserve.fundsRemaining).toBe(String(ETH / 2n));
    expect(finished.stderr).toMatch(/fund reserve \[#+\] 3\/3/);

    const broker = ticketBrokerAt(addresses.ticketBroker, provider);
    const onChain = await broker.getSenderInfo(sender.address);
    expect(onChain.sender.deposit).toBe((15n * ETH) / 10n);
    expect(onChain.reserve.fundsRemaining).toBe(ETH / 2n);
  });

  it('shows sender info as JSON and for people', async () => {
    const info = await cliJson<Record<string, unknown>>('sender', 'info', sender.address);
    expect(info).toMatchObject({
      sender: sender.address,
      deposit: String((15n * ETH) / 10n),
      reserve: { fundsRemaining: String(ETH / 2n), claimedInCurrentRound: '0' },
      withdrawRound: '0',
      unlock: 'none',
      unlockPeriod: '2',
    });
    const human = await cli('sender', 'info', ...asSender());
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/deposit\s+1\.5 ETH/);
    expect(human.stdout).toMatch(/reserve\s+0\.5 ETH/);
  });

  it('unlock, then withdraw is refused with the round it unlocks at, then cancel-unlock', async () => {
    const unlocked = await cliJson<{
      state: { withdrawRound: string; currentRound: string; unlock: string };
    }>('sender', 'unlock', ...asSender());
    expect(unlocked.state.unlock).toBe('pending');
    const until = BigInt(unlocked.state.withdrawRound);
    expect(until).toBe(BigInt(unlocked.state.currentRound) + 2n);

    const withdraw = await cli('sender', 'withdraw', ...asSender(), '--json');
    expect(withdraw.code).toBe(1);
    expect(withdraw.stderr).toContain(
      `unlock in progress until round ${until} (current round ${until - 2n})`,
    );
    expect(JSON.parse(withdraw.stdout)).toMatchObject({ error: { code: 'TX_REVERTED' } });

    const twice = await cli('sender', 'unlock', ...asSender());
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`unlock already in progress until round ${until}`);

    const cancelled = await cliJson<{ state: { withdrawRound: string; unlock: string } }>(
      'sender',
      'cancel-unlock',
      ...asSender(),
    );
    expect(cancelled.state).toMatchObject({ withdrawRound: '0', unlock: 'none' });

    const nothing = await cli('sender', 'cancel-unlock', ...asSender());
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no unlock in progress: nothing to cancel/);
  });

  it('registers a recipient (Controller owner only) and shows it', async () => {
    const notOwner = await cli('recipient', 'register', recipient.address, ...asSender());
    expect(notOwner.code).toBe(1);
    expect(notOwner.stderr).toContain(`only the Controller owner (${deployer.address})`);

    const registered = await cliJson<{ registered: boolean; active: boolean; transactions: unknown[] }>(
      'recipient',
      'register',
      recipient.address,
      '--private-key-env',
      'DEPLOYER_KEY',
    );
    expect(registered).toMatchObject({ registered: true, active: true });
    expect(registered.transactions).toHaveLength(2);
    const bonding = bondingManagerAt(addresses.bondingManager, provider);
    expect(await bonding.isActiveTranscoder(recipient.address)).toBe(true);

    const info = await cliJson<Record<string, unknown>>(
      'recipient',
      'info',
      recipient.address,
      '--sender',
      sender.address,
    );
    expect(info).toMatchObject({
      recipient: recipient.address,
      registered: true,
      active: true,
      fees: '0',
      activeRecipients: '1',
      // The only active recipient may claim the whole reserve this round.
      reserve: { sender: sender.address, claimable: String(ETH / 2n), claimedThisRound: '0' },
    });
  });

  let listed: string;

  it('lists and shows winning tickets from the database', async () => {
    listed = await storeTicket(ETH / 10n);
    const list = await cliJson<{ total: number; tickets: Record<string, unknown>[] }>('tickets', 'list');
    expect(list.total).toBe(1);
    expect(list.tickets[0]).toMatchObject({
      ticketHash: listed,
      status: 'received',
      sender: sender.address.toLowerCase(),
      recipient: recipient.address.toLowerCase(),
      faceValue: String(ETH / 10n),
    });
    const byStatus = await cliJson<{ total: number }>('tickets', 'list', '--status', 'redeemed,failed');
    expect(byStatus.total).toBe(0);
    const bySender = await cliJson<{ total: number }>('tickets', 'list', '--sender', sender.address);
    expect(bySender.total).toBe(1);

    const human = await cli('tickets', 'list');
    expect(human.stdout).toContain(listed);
    expect(human.stdout).toContain('0.1 ETH');

    const show = await cliJson<Record<string, unknown>>('tickets', 'show', listed);
    expect(show).toMatchObject({ ticketHash: listed, status: 'received', winProb: MAX_WIN_PROB.toString() });
    expect(show.sig).toMatch(/^0x[0-9a-f]{130}$/);
    // The recipientRand stays secret until the Redeemer reveals it on-chain.
    expect(show).not.toHaveProperty('recipientRand');
    const row = await tickets.findByHash(listed);
    expect(JSON.stringify(show)).not.toContain(row!.recipientRand.toString());

    const missing = await cli('tickets', 'show', `0x${'ab'.repeat(32)}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no winning ticket/);
  });

  it('tickets redeem enqueues a ticket that has no job, and times out if no Redeemer runs', async () => {
    const run = await cli('tickets', 'redeem', listed, '--timeout', '1', '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'TIMEOUT' } });
    expect(run.stderr).toMatch(/still queued/);
    // Enqueued exactly as the intake does: job id = ticket hash, row moved to queued.
    const job = await queue.getJob(listed);
    expect(job?.data).toEqual({ ticketHash: listed, sender: sender.address.toLowerCase() });
    // Due, ordered by its creation round (the older a ticket, the sooner its job runs).
    expect(await job?.getState()).toBe('prioritized');
    expect(job?.opts.priority).toBe(Number((await tickets.findByHash(listed))?.creationRound));
    expect((await tickets.findByHash(listed))?.status).toBe(WinningTicketStatus.QUEUED);
  });

  it('starts the Redeemer', async () => {
    const port = await freePort();
    redeemerUrl = `http://127.0.0.1:${port}`;
    redeemer = startServiceProcess('redeemer', {
      DATABASE_URL: env.DATABASE_URL,
      REDIS_URL: env.REDIS_URL,
      REDIS_PREFIX: env.REDIS_PREFIX,
      ETH_RPC_URL: env.ETH_RPC_URL,
      CONTROLLER_ADDRESS: env.CONTROLLER_ADDRESS,
      REDEEMER_HTTP_PORT: String(port),
      // The recipient redeems its own tickets, as an orchestrator does.
      REDEEMER_PRIVATE_KEY: recipient.privateKey,
      REDEEMER_OPS_TOKEN: OPS_TOKEN,
      // anvil mines only on transactions: one confirmation, short polls, and a tx is mined in the
      // very next block (only the round's last block is held before the round ends).
      REDEEMER_CONFIRMATIONS: '1',
      REDEEMER_ROUND_END_MARGIN_BLOCKS: '1',
      REDEEMER_POLL_MS: '200',
      REDEEMER_TX_POLL_MS: '200',
      REDEEMER_RETRY_BASE_MS: '200',
      // Tickets this file leaves unqueued on purpose must stay so while it runs.
      REDEEMER_RECONCILE_INTERVAL_MS: '3600000',
    });
    await waitForHttpOk(`${redeemerUrl}/health`, redeemer);
    for (let i = 0; ; i++) {
      const res = await fetch(`${redeemerUrl}/ops/status`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      });
      if (res.ok && ((await res.json()) as { state: string }).state === 'active') break;
      if (i > 100) throw new Error(`the Redeemer did not become active:\n${redeemer.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('tickets redeem waits until the Redeemer redeemed a ticket made due through the queue', async () => {
    const first = await cliJson<{ via: string; status: string; txHash: string }>(
      'tickets',
      'redeem',
      listed,
      '--timeout',
      '60',
    );
    expect(first).toMatchObject({ via: 'queue', status: 'redeemed' });
    const broker = ticketBrokerAt(addresses.ticketBroker, provider);
    expect(await broker.usedTickets(listed)).toBe(true);

    // Held back (as for params not yet expired): the CLI promotes the delayed job itself.
    const delayed = await delayedTicket(ETH / 10n);
    const out = await cliJson<{ via: string; action: string; status: string; txHash: string }>(
      'tickets',
      'redeem',
      delayed,
      '--timeout',
      '60',
    );
    expect(out).toMatchObject({ via: 'queue', action: 'promoted', status: 'redeemed' });
    expect(out.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await broker.usedTickets(delayed)).toBe(true);
  });

  it("tickets redeem asks the Redeemer's ops endpoint when it is configured", async () => {
    const delayed = await delayedTicket(ETH / 5n);
    const withOps = { ...env, REDEEMER_URL: redeemerUrl, REDEEMER_OPS_TOKEN: OPS_TOKEN };
    const run = await runCli(['tickets', 'redeem', delayed, '--timeout', '60', '--json'], withOps);
    runs.push(run);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      via: 'redeemer-ops',
      action: 'promoted',
      status: 'redeemed',
    });
    expect(await ticketBrokerAt(addresses.ticketBroker, provider).usedTickets(delayed)).toBe(true);

    // Already redeemed: nothing to do, exit 0.
    const again = await runCli(['tickets', 'redeem', delayed, '--json'], withOps);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: 'none', status: 'redeemed' });

    const wrongToken = await runCli(['tickets', 'redeem', await storeTicket(ETH / 10n), '--no-wait'], {
      ...withOps,
      REDEEMER_OPS_TOKEN: 'not-the-token-at-all',
    });
    runs.push(wrongToken);
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/the Redeemer refused the ops token/);

    const redeemed = await cliJson<{ total: number }>('tickets', 'list', '--status', 'redeemed');
    expect(redeemed.total).toBe(3);
  });

  it('tickets redeem reports a failed ticket and does not touch it', async () => {
    const ticket = await storeTicket(ETH / 10n);
    await tickets.queue(ticket);
    await tickets.finalize(ticket, WinningTicketStatus.FAILED, 'TICKET_USED');
    const run = await cli('tickets', 'redeem', ticket, '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'NOT_REDEEMED' } });
    expect(run.stderr).toContain('is failed: TICKET_USED');
    expect(await queue.getJob(ticket)).toBeUndefined();
  });

  it('the recipient withdraws its fees, through the Redeemer while it runs, then directly', async () => {
    const bonding = bondingManagerAt(addresses.bondingManager, provider);
    const fees = ETH / 10n + ETH / 10n + ETH / 5n; // the three redeemed tickets
    const info = await cliJson<{ fees: string }>('recipient', 'info', recipient.address);
    expect(info.fees).toBe(String(fees));

    const payee = new Wallet(ANVIL_PRIVATE_KEYS[7]).address;
    const before = await provider.getBalance(payee);
    const withOps = { ...env, REDEEMER_URL: redeemerUrl, REDEEMER_OPS_TOKEN: OPS_TOKEN };
    const viaRedeemer = await runCli(
      ['recipient', 'withdraw-fees', '--via-redeemer', '--amount', '0.1eth', '--to', payee, '--json'],
      withOps,
    );
    runs.push(viaRedeemer);
    expect(viaRedeemer.code, viaRedeemer.stderr).toBe(0);
    expect(JSON.parse(viaRedeemer.stdout)).toMatchObject({
      via: 'redeemer-ops',
      amount: String(ETH / 10n),
      to: payee,
    });
    expect(await provider.getBalance(payee)).toBe(before + ETH / 10n);
    expect(await bonding.pendingFees(recipient.address, 0)).toBe(fees - ETH / 10n);

    // Signing directly with the key the Redeemer uses would race its nonces: stop it first.
    await redeemer?.stop();
    redeemer = undefined;
    const direct = await cliJson<{ amount: string; feesLeft: string }>(
      'recipient',
      'withdraw-fees',
      '--private-key-env',
      'RECIPIENT_KEY',
    );
    expect(direct).toMatchObject({ amount: String(fees - ETH / 10n), feesLeft: '0' });
    const none = await cliJson<{ amount: string }>(
      'recipient',
      'withdraw-fees',
      '--private-key-env',
      'RECIPIENT_KEY',
    );
    expect(none.amount).toBe('0');
  });

  it('checks the shared conformance vectors', async () => {
    const out = await cliJson<{ passed: number; failed: number; failures: string[] }>(
      'conformance',
      '/work/shared/vectors/pm-vectors.json',
    );
    expect(out.failed).toBe(0);
    expect(out.passed).toBeGreaterThan(0);
    expect(out.failures).toEqual([]);

    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"tickets": [{"hash": "0x00"}]}');
    const failing = await cli('conformance', broken, '--json');
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout)).toMatchObject({
      error: { code: 'CONFORMANCE_FAILED', details: { passed: 0, failed: 1 } },
    });

    const unusable = await cli('conformance', join(dir, 'missing.json'));
    expect(unusable.code).toBe(2);
  });

  it('exits 2 on usage errors, with a message and no stack', async () => {
    const cases: [string[], RegExp][] = [
      [[], /usage: ticketpay <command>/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['sender', 'nope'], /unknown command "sender nope"/],
      [['sender', 'info', '--bogus'], /Unknown option '--bogus'/],
      [['sender', 'fund-deposit'], /missing argument/],
      [['sender', 'fund-deposit', '1.5', ...asSender()], /did you mean 1\.5eth/],
      [['sender', 'fund-deposit', '1eth', 'extra'], /unexpected argument "extra"/],
      [['sender', 'fund-deposit', '1eth'], /--keystore <file>.*or --private-key-env/],
      [['sender', 'info', '0x1234'], /must be a 0x-prefixed 20-byte address/],
      [['tickets', 'show', 'nothex'], /ticket hash/],
      [['tickets', 'list', '--status', 'won'], /unknown status "won"/],
      [['sender', 'fund-deposit', '1eth', '--private-key-env', 'NOT_SET'], /NOT_SET is not set/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout + run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const help = await cli('sender', 'fund-deposit', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: ticketpay sender fund-deposit <amount>/);
  });

  it('fails with exit 1 and a clear message when the chain is unreachable', async () => {
    const run = await runCli(['sender', 'info', sender.address], {
      ...env,
      ETH_RPC_URL: 'http://127.0.0.1:9',
    });
    runs.push(run);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the chain RPC \(ETH_RPC_URL or --rpc-url\) did not answer/);
  });

  it('never printed a password, key or connection URL', () => {
    const secrets = [
      PASSWORD,
      senderKey.slice(2),
      recipient.privateKey.slice(2),
      deployer.privateKey.slice(2),
    ];
    for (const run of runs) {
      const output = run.stdout + run.stderr;
      for (const secret of secrets) expect(output).not.toContain(secret);
      expect(output).not.toContain(inject('databaseUrl'));
      expect(output).not.toContain(anvil.url);
    }
  });
});
