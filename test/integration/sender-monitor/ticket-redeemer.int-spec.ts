import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { parseEther, type Wallet } from 'ethers';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteSenderMonitor } from '#app/clients';
import { maxFloatUpdateCodec, redeemerTicketCodec, type MaxFloatUpdateMessage } from '#app/proto';
import { bytesToHex, hexToBytes, ticketHash } from '#app/ticket';
import { mined } from '../contracts/protocol-fixture.js';
import {
  Recorder,
  startMonitor,
  ticketRedeemerClient,
  unary,
  winningTicket,
  type MonitorUnderTest,
  type TicketRedeemerClient,
} from './harness.js';

// go-livepeer's net.TicketRedeemer (PROTOCOL.md §9), called with a client built from redeemer.proto
// as an orchestrator started with -redeemerAddr would: QueueTicket, MaxFloat, MonitorMaxFloat.

const ETH = parseEther('1');
const eth = (s: string) => parseEther(s);

let m: MonitorUnderTest;
let net: TicketRedeemerClient;
let ours: RemoteSenderMonitor;
let r0: string;
const recorders: Recorder<bigint>[] = [];

beforeAll(async () => {
  m = await startMonitor('ticket-redeemer-spec');
  net = ticketRedeemerClient(m.grpcUrl);
  ours = new RemoteSenderMonitor({ target: m.grpcUrl });
  r0 = m.fx.recipients[0].address.toLowerCase();
});
afterAll(async () => {
  for (const r of recorders) r.close();
  net?.close();
  ours?.close();
  await m?.stop();
});

async function fundedSender(deposit: bigint, reserve: bigint): Promise<Wallet> {
  const sender = await m.fx.newAccount();
  await mined(m.fx.brokerAs(sender).fundDepositAndReserve(deposit, reserve, { value: deposit + reserve }));
  await m.caughtUp();
  return sender;
}

const senderBytes = (w: Wallet) => hexToBytes(w.address.toLowerCase(), 'sender', 20);

async function netMaxFloat(sender: Wallet): Promise<bigint> {
  const res = await unary<MaxFloatUpdateMessage>((cb, opts) =>
    net.MaxFloat({ sender: senderBytes(sender) }, new Metadata(), opts, cb),
  );
  return maxFloatUpdateCodec.fromMessage(res).maxFloat;
}

/** MonitorMaxFloat as an Observable of decoded max floats. */
function monitor(sender: Wallet): Recorder<bigint> {
  const recorder = new Recorder(
    new Observable<bigint>((sub) => {
      const stream: ClientReadableStream<MaxFloatUpdateMessage> = net.MonitorMaxFloat({
        sender: senderBytes(sender),
      });
      let cancelled = false;
      stream.on('data', (u: MaxFloatUpdateMessage) => sub.next(maxFloatUpdateCodec.fromMessage(u).maxFloat));
      stream.on('error', (err) => {
        if (!cancelled) sub.error(err);
      });
      return () => {
        cancelled = true;
        stream.cancel();
      };
    }),
  );
  recorders.push(recorder);
  return recorder;
}

function queue(message: object): Promise<object> {
  return unary<object>((cb, opts) => net.QueueTicket(message, new Metadata(), opts, cb));
}

async function rowsOf(
  sender: Wallet,
): Promise<{ ticket_hash: string; status: string; face_value: string }[]> {
  const res = await m.db.query<{ ticket_hash: string; status: string; face_value: string }>(
    'SELECT ticket_hash, status, face_value FROM winning_ticket WHERE sender = $1 ORDER BY created_at',
    [sender.address.toLowerCase()],
  );
  return res.rows;
}

describe('net.TicketRedeemer', () => {
  it('MaxFloat answers for the primary recipient, as minbytes', async () => {
    const sender = await fundedSender(0n, ETH);
    expect(await netMaxFloat(sender)).toBe(eth('0.5'));
    const unknown = senderBytes(await m.fx.newAccount());
    const empty = await unary<MaxFloatUpdateMessage>((cb, opts) =>
      net.MaxFloat({ sender: unknown }, new Metadata(), opts, cb),
    );
    // Zero is the empty byte string, as go-livepeer's big.Int.Bytes().
    expect(Buffer.from(empty.maxFloat ?? []).length).toBe(0);
  });

  it('QueueTicket stores and enqueues a winning ticket; MonitorMaxFloat pushes the pending deduction and its end', async () => {
    const sender = await fundedSender(0n, ETH);
    const stream = monitor(sender);
    expect(await stream.next()).toBe(eth('0.5'));

    const ticket = await winningTicket(m.fx, sender, r0, eth('0.2'));
    expect(await queue(redeemerTicketCodec.toMessage(ticket))).toEqual({});
    expect(await stream.next()).toBe(eth('0.3'));
    const hash = bytesToHex(ticketHash(ticket));
    expect(await rowsOf(sender)).toEqual([
      { ticket_hash: hash, status: 'queued', face_value: eth('0.2').toString() },
    ]);

    // Queued twice, stored once.
    await queue(redeemerTicketCodec.toMessage(ticket));
    expect((await rowsOf(sender)).length).toBe(1);
    expect(await netMaxFloat(sender)).toBe(eth('0.3'));

    // A Redeemer worker settles it: no longer pending.
    await m.db.query(`UPDATE winning_ticket SET status = 'redeemed' WHERE ticket_hash = $1`, [hash]);
    expect(await stream.next()).toBe(eth('0.5'));
  });

  it("a negative max float is 0 on the net wire and signed on ticketpay's API", async () => {
    const sender = await fundedSender(0n, eth('0.2'));
    const stream = monitor(sender);
    expect(await stream.next()).toBe(eth('0.1'));
    await queue(redeemerTicketCodec.toMessage(await winningTicket(m.fx, sender, r0, eth('0.3'))));
    expect(await stream.next()).toBe(0n);
    expect(await netMaxFloat(sender)).toBe(0n);
    expect(await ours.maxFloat(sender.address, r0)).toBe(eth('-0.2'));
  });

  it('QueueTicket refuses other recipients, tickets that do not verify and incomplete messages, storing nothing', async () => {
    const sender = await fundedSender(0n, ETH);
    const codeOf = async (message: object) => {
      const err = (await queue(message).then(
        () => undefined,
        (e: unknown) => e,
      )) as ServiceError | undefined;
      expect(err).toBeDefined();
      return { status: err!.code, code: String(err!.metadata.get('error-code')[0]), details: err!.details };
    };

    const stranger = (await m.fx.newAccount()).address;
    const foreign = await codeOf(
      redeemerTicketCodec.toMessage(await winningTicket(m.fx, sender, stranger, ETH)),
    );
    expect(foreign).toMatchObject({ status: status.PERMISSION_DENIED, code: 'UNKNOWN_RECIPIENT' });
    expect(foreign.details).toMatch(/^invalid ticket recipient 0x/);

    const forged = await winningTicket(m.fx, sender, r0, ETH);
    forged.faceValue += 1n;
    expect(await codeOf(redeemerTicketCodec.toMessage(forged))).toMatchObject({
      status: status.INVALID_ARGUMENT,
      code: 'INVALID_SIGNATURE',
    });

    const tampered = await winningTicket(m.fx, sender, r0, ETH);
    tampered.recipientRand += 1n;
    expect(await codeOf(redeemerTicketCodec.toMessage(tampered))).toMatchObject({
      status: status.INVALID_ARGUMENT,
      code: 'INVALID_RECIPIENT_RAND',
    });

    // winProb 1 out of 2^256 − 1: it never wins, so it could never be redeemed.
    const losing = await winningTicket(m.fx, sender, r0, ETH, { winProb: 1n });
    expect(await codeOf(redeemerTicketCodec.toMessage(losing))).toMatchObject({
      status: status.INVALID_ARGUMENT,
      code: 'TICKET_NOT_WINNING',
    });

    const incomplete = redeemerTicketCodec.toMessage(await winningTicket(m.fx, sender, r0, ETH));
    delete incomplete.senderParams;
    expect(await codeOf(incomplete)).toMatchObject({
      status: status.INVALID_ARGUMENT,
      code: 'INVALID_FIELD',
    });

    expect(await rowsOf(sender)).toEqual([]);
  });

  it('MaxFloat without a sender is INVALID_ARGUMENT', async () => {
    const err = (await unary((cb, opts) => net.MaxFloat({}, new Metadata(), opts, cb)).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });
});
