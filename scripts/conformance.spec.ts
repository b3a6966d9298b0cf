import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Rational,
  bytesToHex,
  computeRecipientRand,
  hexToBytes,
  isWinningTicket,
  nobleBackend,
  recipientRandHash,
  signTicketHash,
  ticketEV,
  ticketHash,
  toChecksumAddress,
  uint256Bytes,
  winProbForEV,
} from '#app/ticket';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runConformance(file: string): { status: number | null; lines: string[] } {
  const result = spawnSync(
    process.execPath,
    [
      '--conditions=ticketpay-source',
      '--import',
      '@swc-node/register/esm-register',
      'scripts/conformance.ts',
      file,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: result.status, lines: result.stdout.trim().split('\n') };
}

/** A small vector file in the shared format, computed with the library and a fixed key. */
function makeVectors() {
  const key = hexToBytes(`0x${'42'.repeat(32)}`, 'key', 32);
  const sender = nobleBackend.addressOf(key);
  const recipient = new Uint8Array(20).fill(0x0f);
  const tickets = [1n, 7n].map((faceValue, i) => {
    const winProb = winProbForEV(faceValue - 1n, faceValue);
    const recipientRand = BigInt(1000 + i);
    const ticket = {
      recipient,
      sender,
      faceValue,
      winProb,
      senderNonce: i,
      recipientRandHash: recipientRandHash(recipientRand),
      creationRound: 5n,
      creationRoundBlockHash: new Uint8Array(32).fill(i),
    };
    const hash = ticketHash(ticket);
    const sig = signTicketHash(hash, key, nobleBackend);
    const ev = ticketEV(faceValue, winProb);
    return {
      ticket: {
        recipient: toChecksumAddress(recipient),
        sender: toChecksumAddress(sender),
        faceValue: faceValue.toString(),
        winProb: winProb.toString(),
        senderNonce: i,
        recipientRandHash: bytesToHex(ticket.recipientRandHash),
        creationRound: '5',
        creationRoundBlockHash: bytesToHex(ticket.creationRoundBlockHash),
      },
      hash: bytesToHex(hash),
      senderPrivateKey: bytesToHex(key),
      sig: bytesToHex(sig),
      recipientRand: bytesToHex(uint256Bytes(recipientRand)),
      isWinning: isWinningTicket(sig, recipientRand, winProb),
      ev: { num: ev.num.toString(), den: ev.den.toString() },
    };
  });
  const secret = new Uint8Array(32).fill(3);
  const rrInput = {
    seed: 99n,
    sender,
    faceValue: 7n,
    winProb: 6n,
    expirationBlock: 140n,
    pricePerPixel: Rational.of(3n, 7n),
    creationRound: 0n,
    creationRoundBlockHash: new Uint8Array(32),
  };
  const rand = computeRecipientRand(secret, rrInput);
  return {
    tickets,
    invalidSignatures: {
      ticketIndex: 0,
      sender: toChecksumAddress(sender),
      cases: [{ why: '64 bytes', sig: tickets[0].sig.slice(0, -2) }],
    },
    recipientRand: [
      {
        secret: bytesToHex(secret),
        seed: '99',
        sender: toChecksumAddress(sender),
        faceValue: '7',
        winProb: '6',
        expirationBlock: '140',
        pricePerPixel: { num: '6', den: '14' },
        creationRound: '0',
        creationRoundBlockHash: bytesToHex(rrInput.creationRoundBlockHash),
        recipientRand: bytesToHex(uint256Bytes(rand)),
        recipientRandHash: bytesToHex(recipientRandHash(rand)),
      },
    ],
    winProbFromEV: [{ ev: '1000', faceValue: '1000', winProb: ((1n << 256n) - 1n).toString() }],
  };
}

describe('npm run conformance', () => {
  it('passes a correct file and exits 0', () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify(makeVectors()));
    const { status, lines } = runConformance(file);
    expect(lines).toEqual(['5 passed, 0 failed']);
    expect(status).toBe(0);
  }, 60_000);

  it('prints one line per failure, the totals last, and exits 1', () => {
    const vectors = makeVectors();
    const realHash = vectors.tickets[1].hash;
    vectors.tickets[1].hash = `0x${'00'.repeat(32)}`;
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(vectors));
    const { status, lines } = runConformance(file);
    expect(lines).toEqual([
      `tickets[1]: hash expected 0x${'00'.repeat(32)}, got ${realHash}`,
      '4 passed, 1 failed',
    ]);
    expect(status).toBe(1);
  }, 60_000);

  it('exits 2 on a file it cannot use', () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, '{"about":"nothing here"}');
    expect(runConformance(file).status).toBe(2);
    expect(runConformance(join(dir, 'missing.json')).status).toBe(2);
  }, 60_000);

  const shared = join(ROOT, '..', 'shared', 'vectors', 'pm-vectors.json');
  it.skipIf(!existsSync(shared))(
    'passes every case of the shared vectors',
    () => {
      const { status, lines } = runConformance(shared);
      expect(lines.at(-1)).toBe('66 passed, 0 failed');
      expect(status).toBe(0);
    },
    60_000,
  );
});
