import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { parseEther, type Wallet } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { maxFloatUpdateCodec, redeemerTicketCodec, type MaxFloatUpdateMessage } from '#app/proto';
import {
  buildServices,
  freePort,
  kill9,
  startServiceProcess,
  startTcpProxy,
  waitForHttpOk,
  type ServiceProcess,
  type TcpProxy,
} from '#app/testing';
import { hexToBytes, type SignedTicket } from '#app/ticket';
import { mined, startProtocol, type ProtocolFixture } from '../../integration/contracts/protocol-fixture.js';
import {
  ticketRedeemerClient,
  unary,
  winningTicket,
  type TicketRedeemerClient,
} from '../../integration/sender-monitor/harness.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';

const eth = (s: string) => parseEther(s);

/** The max floats one MonitorMaxFloat stream delivered, and how it ended. */
class Stream {
  readonly values: bigint[] = [];
  ended?: string;
  private readonly call: ClientReadableStream<MaxFloatUpdateMessage>;

  constructor(client: TicketRedeemerClient, sender: Uint8Array) {
    this.call = client.MonitorMaxFloat({ sender });
    this.call.on('data', (u: MaxFloatUpdateMessage) =>
      this.values.push(maxFloatUpdateCodec.fromMessage(u).maxFloat),
    );
    this.call.on('error', (err: Error & { code?: number }) => (this.ended = `error ${err.code}`));
    this.call.on('end', () => (this.ended ??= 'end'));
  }

  last(): bigint | undefined {
    return this.values.at(-1);
  }

  cancel(): void {
    this.call.cancel();
  }
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The built SenderMonitor as a real process: killed with SIGKILL while an orchestrator watches
 * a sender's max float, restarted, then cut from the chain RPC for some blocks. The pending
 * ticket survives in Postgres, the watcher reconnects and the float is right each time.
 */
describe('SenderMonitor process under faults', () => {
  let fx: ProtocolFixture;
  let database: PrivateDatabase;
  let proxy: TcpProxy;
  let db: pg.Client;
  let env: Record<string, string>;
  let httpPort: number;
  let grpcUrl: string;
  let svc: ServiceProcess | undefined;
  let client: TicketRedeemerClient | undefined;
  let sender: Wallet;
  let senderBytes: Uint8Array;
  let ticket: SignedTicket;
  const streams: Stream[] = [];

  beforeAll(async () => {
    buildServices();
    database = await privateDatabase('faults-monitor');
    fx = await startProtocol();
    proxy = await startTcpProxy(fx.anvil.port);
    httpPort = await freePort();
    grpcUrl = `127.0.0.1:${await freePort()}`;
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `${inject('redisPrefix')}faults-monitor:`,
      ETH_RPC_URL: proxy.url,
      CONTROLLER_ADDRESS: fx.protocol.controller,
      SENDER_MONITOR_RECIPIENTS: fx.recipients.map((r) => r.address).join(','),
      SENDER_MONITOR_HTTP_PORT: String(httpPort),
      SENDER_MONITOR_GRPC_URL: grpcUrl,
      SENDER_MONITOR_POLL_INTERVAL_MS: '100',
      SENDER_MONITOR_RPC_TIMEOUT_MS: '2000',
    };
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    sender = await fx.newAccount();
    senderBytes = hexToBytes(sender.address.toLowerCase(), 'sender', 20);
    await mined(fx.brokerAs(sender).fundDepositAndReserve(0n, eth('1'), { value: eth('1') }));
    await start();
  }, 120_000);

  afterAll(async () => {
    for (const s of streams) s.cancel();
    client?.close();
    await svc?.stop();
    await db?.end();
    await proxy?.stop();
    await fx?.stop();
    await database?.drop();
  });

  async function start(): Promise<void> {
    client?.close();
    svc = startServiceProcess('sender-monitor', env);
    await waitForHttpOk(`http://127.0.0.1:${httpPort}/health`, svc);
    client = ticketRedeemerClient(grpcUrl);
  }

  function watch(): Stream {
    const s = new Stream(client!, senderBytes);
    streams.push(s);
    return s;
  }

  const maxFloat = async () =>
    maxFloatUpdateCodec.fromMessage(
      await unary<MaxFloatUpdateMessage>((cb, opts) =>
        client!.MaxFloat({ sender: senderBytes }, new Metadata(), opts, cb),
      ),
    ).maxFloat;

  const rows = async () =>
    (
      await db.query<{ status: string }>('SELECT status FROM winning_ticket WHERE sender = $1', [
        sender.address.toLowerCase(),
      ])
    ).rows;

  it('kill -9 mid-stream: the stream ends with an error, the restart serves the same float', async () => {
    const stream = watch();
    await until(() => stream.last() === eth('0.5'), 'the first max float (reserve / pool size 2)');
    ticket = await winningTicket(fx, sender, fx.recipients[0].address.toLowerCase(), eth('0.1'));
    await unary<object>((cb, opts) =>
      client!.QueueTicket(redeemerTicketCodec.toMessage(ticket), new Metadata(), opts, cb),
    );
    await until(() => stream.last() === eth('0.4'), 'the pending ticket to lower the float');

    await kill9(svc!);
    await until(() => stream.ended !== undefined, 'the stream to end');
    expect(stream.ended).toMatch(/^error/);

    await start();
    const again = watch();
    await until(() => again.last() !== undefined, 'the first value after the restart');
    expect(again.last()).toBe(eth('0.4'));
    // The orchestrator retries the ticket it is not sure was taken: a duplicate, not a second row.
    await unary<object>((cb, opts) =>
      client!.QueueTicket(redeemerTicketCodec.toMessage(ticket), new Metadata(), opts, cb),
    );
    expect(await rows()).toHaveLength(1);
    expect(await maxFloat()).toBe(eth('0.4'));
  }, 120_000);

  it('the chain RPC goes away for some blocks: the monitor catches up by itself', async () => {
    const stream = watch();
    await until(() => stream.last() === eth('0.4'), 'the current float');
    await proxy.stop();
    // Meanwhile on chain: blocks go by and the sender adds 1 ETH to the reserve.
    await fx.anvil.provider.send('anvil_mine', ['0x5']);
    await mined(fx.brokerAs(sender).fundReserve({ value: eth('1') }));
    await fx.anvil.provider.send('anvil_mine', ['0x5']);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(svc!.proc.exitCode).toBeNull();
    await proxy.start();
    // Reserve 2 ETH / 2 recipients − 0.1 pending.
    await until(() => stream.last() === eth('0.9'), 'the float after the outage', 30_000);
    expect(await maxFloat()).toBe(eth('0.9'));
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);
    expect(await rows()).toHaveLength(1);
  }, 120_000);
});
