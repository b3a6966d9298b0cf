import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  availableBackends,
  bytesToHex,
  hexToBytes,
  parseAddress,
  personalDigest,
  signTicketHash,
  ticketHash,
  type TicketHashFields,
} from '#app/ticket';

// The shared conformance vectors, replayed through every backend. The full check of the file
// (hash, EV, lottery, recipientRand, winProb) is `npm run conformance`; here the two backends
// must also agree with each other on every vector, valid or not.
const VECTORS = new URL('../../../../shared/vectors/pm-vectors.json', import.meta.url);

interface TicketVector {
  ticket: Record<string, string | number>;
  senderPrivateKey: string;
  sig: string;
}

function ticketOf(v: TicketVector): TicketHashFields {
  const t = v.ticket;
  return {
    recipient: parseAddress(t.recipient as string),
    sender: parseAddress(t.sender as string),
    faceValue: BigInt(t.faceValue),
    winProb: BigInt(t.winProb),
    senderNonce: t.senderNonce as number,
    recipientRandHash: hexToBytes(t.recipientRandHash as string, 'h', 32),
    creationRound: BigInt(t.creationRound),
    creationRoundBlockHash: hexToBytes(t.creationRoundBlockHash as string, 'h', 32),
  };
}

describe.skipIf(!existsSync(VECTORS))('shared PM vectors with every backend', () => {
  const file = existsSync(VECTORS)
    ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as {
        tickets: TicketVector[];
        invalidSignatures: { ticketIndex: number; cases: { sig: string }[] };
      })
    : { tickets: [], invalidSignatures: { ticketIndex: 0, cases: [] } };
  const backends = availableBackends();

  it('re-signs every ticket to the exact vector signature (RFC 6979) and recovers its sender', () => {
    for (const v of file.tickets) {
      const hash = ticketHash(ticketOf(v));
      for (const backend of backends) {
        expect(bytesToHex(signTicketHash(hash, hexToBytes(v.senderPrivateKey, 'key', 32), backend))).toBe(
          v.sig,
        );
        const signer = backend.recoverAddress(personalDigest(hash), hexToBytes(v.sig, 'sig'));
        expect(signer && bytesToHex(signer)).toBe(bytesToHex(ticketOf(v).sender));
      }
    }
  });

  it('recovers the same address (or none) from every invalid signature', () => {
    const digest = personalDigest(ticketHash(ticketOf(file.tickets[file.invalidSignatures.ticketIndex])));
    for (const c of file.invalidSignatures.cases) {
      const recovered = backends.map((b) => {
        const address = b.recoverAddress(digest, hexToBytes(c.sig, 'sig'));
        return address && bytesToHex(address);
      });
      expect(new Set(recovered).size).toBe(1);
    }
  });
});
