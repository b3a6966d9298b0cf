// Gas used by the TicketBroker's main operations, measured on a fresh anvil with the dev protocol.
// Prints a Markdown table. Run: npm run bench:gas
import {
  Wallet,
  concat,
  getBytes,
  hexlify,
  parseEther,
  randomBytes,
  solidityPackedKeccak256,
  toBeHex,
  toBigInt,
  toQuantity,
  zeroPadValue,
  type ContractTransactionResponse,
} from 'ethers';
import { loadArtifact, roundsManagerAt, ticketBrokerAt, type TicketBrokerContract } from '#app/chain';
import { ANVIL_PRIVATE_KEYS, startAnvil, type AnvilInstance, deployProtocol } from '#app/testing';
import { MAX_WIN_PROB } from '#app/ticket';
import { printBenchJson } from './bench-json.js';

const BATCH_SIZES = [1, 5, 20];
// Batches must not be sized by eth_estimateGas: failed sub-calls are swallowed, so the estimate
// can starve the last ticket. A generous explicit limit; gasUsed is what is reported.
const BATCH_GAS_LIMIT = 15_000_000;

interface Row {
  operation: string;
  gas: bigint;
  tickets?: number;
}

async function main(): Promise<void> {
  const anvil = await startAnvil();
  try {
    const rows = await measure(anvil);
    const { version, settings } = loadArtifact('TicketBroker').compiler;
    console.log(`TicketBroker gas (solc ${version}, ${JSON.stringify(settings)}, anvil)\n`);
    console.log('| operation | gas used | gas per ticket |');
    console.log('| --- | ---: | ---: |');
    for (const r of rows) {
      const perTicket = r.tickets ? (r.gas / BigInt(r.tickets)).toLocaleString('en-US') : '';
      console.log(`| ${r.operation} | ${r.gas.toLocaleString('en-US')} | ${perTicket} |`);
    }
    printBenchJson(
      'gas',
      rows.map((r) => ({ name: r.operation, value: Number(r.gas), unit: 'gas' })),
    );
    console.log(
      '\nRedemptions pay a recipient that already has fees and a sender whose deposit stays non-zero ' +
        '(the steady state); each ticket is a distinct winner (winProb = 2^256-1).',
    );
  } finally {
    await anvil.stop();
  }
}

async function measure(anvil: AnvilInstance): Promise<Row[]> {
  const { provider } = anvil;
  const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], provider);
  const recipient = new Wallet(ANVIL_PRIVATE_KEYS[9]).address;
  // A 1000-block round holds every tx below, so no ticket expires or meets an uninitialized round.
  const { addresses } = await deployProtocol(owner, { roundLength: 1000n, recipients: [recipient] });
  const rounds = roundsManagerAt(addresses.roundsManager, provider);
  const round = await rounds.currentRound();
  const auxData = concat([zeroPadValue(toBeHex(round), 32), await rounds.blockHashForRound(round)]);

  const newSender = async (): Promise<{ wallet: Wallet; broker: TicketBrokerContract }> => {
    const wallet = new Wallet(hexlify(randomBytes(32)), provider);
    await provider.send('anvil_setBalance', [wallet.address, toQuantity(parseEther('1000'))]);
    return { wallet, broker: ticketBrokerAt(addresses.ticketBroker, wallet) };
  };
  const relayer = ticketBrokerAt(addresses.ticketBroker, owner);
  let nonce = 0n;
  const ticket = async (sender: Wallet, faceValue: bigint) => {
    const recipientRand = toBigInt(randomBytes(32));
    const t = {
      recipient,
      sender: sender.address,
      faceValue,
      winProb: MAX_WIN_PROB,
      senderNonce: ++nonce,
      recipientRandHash: solidityPackedKeccak256(['uint256'], [recipientRand]),
      auxData,
    };
    const hash = solidityPackedKeccak256(
      ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
      [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.auxData],
    );
    return { t, sig: await sender.signMessage(getBytes(hash)), recipientRand };
  };

  const rows: Row[] = [];
  const record = async (operation: string, tx: Promise<ContractTransactionResponse>, tickets?: number) => {
    const receipt = await (await tx).wait();
    const redeemed = receipt!.logs.filter(
      (log) => relayer.interface.parseLog(log)?.name === 'WinningTicketRedeemed',
    );
    if (tickets !== undefined && redeemed.length !== tickets) {
      throw new Error(`${operation}: ${redeemed.length} of ${tickets} tickets redeemed`);
    }
    rows.push({ operation, gas: receipt!.gasUsed, tickets });
  };

  const funder = await newSender();
  await record('fundDeposit (first deposit)', funder.broker.fundDeposit({ value: parseEther('1') }));
  await record('fundReserve (first reserve)', funder.broker.fundReserve({ value: parseEther('1') }));

  // Deposit large enough for every ticket below; one warm-up redemption credits the recipient.
  const payer = await newSender();
  await (await payer.broker.fundDeposit({ value: parseEther('100') })).wait();
  const warmUp = await ticket(payer.wallet, 1n);
  await (await relayer.redeemWinningTicket(warmUp.t, warmUp.sig, warmUp.recipientRand)).wait();

  const single = await ticket(payer.wallet, parseEther('0.01'));
  await record(
    'redeemWinningTicket, paid from deposit',
    relayer.redeemWinningTicket(single.t, single.sig, single.recipientRand),
    1,
  );

  const short = await newSender();
  await (
    await short.broker.fundDepositAndReserve(parseEther('0.5'), parseEther('2'), { value: parseEther('2.5') })
  ).wait();
  const topped = await ticket(short.wallet, parseEther('1'));
  await record(
    'redeemWinningTicket, paid from deposit + reserve',
    relayer.redeemWinningTicket(topped.t, topped.sig, topped.recipientRand),
    1,
  );

  for (const size of BATCH_SIZES) {
    const tickets = [];
    for (let i = 0; i < size; i++) tickets.push(await ticket(payer.wallet, parseEther('0.01')));
    await record(
      `batchRedeemWinningTickets, ${size} winner${size > 1 ? 's' : ''}`,
      relayer.batchRedeemWinningTickets(
        tickets.map((x) => x.t),
        tickets.map((x) => x.sig),
        tickets.map((x) => x.recipientRand),
        { gasLimit: BATCH_GAS_LIMIT },
      ),
      size,
    );
  }
  return rows;
}

main()
  .then(() => redeemerBatchGas())
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });

// ─────────────────────────────────────────────────────────────────────────────────────────────
// Batch redemption through the Redeemer (apps/redeemer), end to end: winning tickets handed in
// as the Recipient does (WinningTicketIntake), batched, sent and settled by the service. Needs the
// test Postgres and Redis (TEST_POSTGRES_URL / TEST_REDIS_URL, defaults 127.0.0.1); skipped if absent.
// ─────────────────────────────────────────────────────────────────────────────────────────────

import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { bootstrapService } from '#app/common';
import { WinningTicketRepository, WinningTicketStatus } from '#app/database';
import { scratchDatabase, type ScratchDatabase } from '#app/testing';
import { WinningTicketIntake } from '#app/queue';
import { RedeemerConfig } from '../apps/redeemer/src/redeemer.config.js';
import { RedeemerLifecycle } from '../apps/redeemer/src/redeemer.lifecycle.js';
import { RedeemerModule } from '../apps/redeemer/src/redeemer.module.js';
import {
  eventually,
  flushRedisPrefix,
  hashOf,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../test/integration/redeemer/redeemer-fixture.js';

const REDEEMER_BATCHES = [1, 4, 16];

async function redeemerBatchGas(): Promise<void> {
  const adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const runId = `${Date.now().toString(36)}_${hexlify(randomBytes(3)).slice(2)}`;
  const redisPrefix = `ticketpay-bench:${runId}:`;
  let db: ScratchDatabase;
  try {
    db = await scratchDatabase(adminUrl, 'bench_gas');
  } catch {
    console.log('\nRedeemer batch redemption: skipped (no Postgres at TEST_POSTGRES_URL)');
    return;
  }
  let fx: RedeemerChainFixture | undefined;
  let app: INestApplication | undefined;
  try {
    fx = await startRedeemerChain();
    app = await bootstrapService({
      name: 'redeemer',
      module: RedeemerModule.forRoot(
        RedeemerConfig.fromEnv({
          DATABASE_URL: db.url,
          REDIS_URL: redisUrl,
          REDIS_PREFIX: redisPrefix,
          ETH_RPC_URL: fx.anvil.url,
          CONTROLLER_ADDRESS: fx.protocol.controller,
          REDEEMER_PRIVATE_KEY: fx.recipient.privateKey,
          REDEEMER_CONFIRMATIONS: '1',
          REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: '0',
          // anvil mines only on transactions: the next block is the one a tx is mined in.
          REDEEMER_ROUND_END_MARGIN_BLOCKS: '1',
          REDEEMER_BATCH_MAX_SIZE: String(Math.max(...REDEEMER_BATCHES)),
          REDEEMER_BATCH_WINDOW_MS: '1000',
          REDEEMER_POLL_MS: '200',
          REDEEMER_TX_POLL_MS: '100',
        }),
      ),
      logger: new ConsoleLogger('bench', { logLevels: ['fatal'] }),
      http: { host: '127.0.0.1', port: 0 },
      exitOnSignals: false,
    });
    await app.get(RedeemerLifecycle).whenActive();
    const intake = app.get(WinningTicketIntake);
    const store = app.get(WinningTicketRepository);
    const ds = app.get(DataSource);
    const payer = await fx.newSender(parseEther('100'));

    const rows: { tickets: number; txs: number; gas: bigint }[] = [];
    // The first size runs twice and its first run is dropped: it pays the recipient's first fee credit.
    for (const [run, size] of [REDEEMER_BATCHES[0], ...REDEEMER_BATCHES].entries()) {
      const tickets = [];
      for (let i = 0; i < size; i++) tickets.push(await fx.ticket(payer, parseEther('0.01')));
      for (const t of tickets) await intake.accept(t);
      for (const t of tickets) {
        await eventually(
          async () => {
            const r = await store.findByHash(hashOf(t));
            return r?.status === WinningTicketStatus.REDEEMED ? true : undefined;
          },
          'redemption',
          120_000,
        );
      }
      const txs = await ds.query<{ gas_used: string }[]>(
        `SELECT gas_used FROM chain_tx WHERE refs && $1::text[] AND status = 'mined'`,
        [tickets.map(hashOf)],
      );
      if (run === 0) continue;
      rows.push({
        tickets: size,
        txs: txs.length,
        gas: txs.reduce((sum, tx) => sum + BigInt(tx.gas_used), 0n),
      });
    }

    console.log(
      '\nRedemption through the Redeemer (tickets handed in together, batched and settled by the service)\n',
    );
    console.log('| tickets | transactions | gas used | gas per ticket |');
    console.log('| ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      const fmt = (x: bigint) => x.toLocaleString('en-US');
      console.log(`| ${r.tickets} | ${r.txs} | ${fmt(r.gas)} | ${fmt(r.gas / BigInt(r.tickets))} |`);
    }
    printBenchJson(
      'gas',
      rows.map((r) => ({
        name: `Redeemer, ${r.tickets} tickets in ${r.txs} tx, per ticket`,
        value: Number(r.gas / BigInt(r.tickets)),
        unit: 'gas',
      })),
    );
    console.log(
      '\nOne ticket goes out as redeemWinningTicket, several as batchRedeemWinningTickets; gas is the ' +
        "mined receipts' gasUsed. All tickets are one sender's, paid from its deposit, to a recipient that already has fees.",
    );
  } finally {
    await app?.close();
    await fx?.stop();
    await flushRedisPrefix(redisUrl, redisPrefix).catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}
