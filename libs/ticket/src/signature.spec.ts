import fc from 'fast-check';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  SECP256K1_N,
  SignatureFault,
  availableBackends,
  bytesToHex,
  hexToBytes,
  keccak256,
  personalDigest,
  signTicketHash,
  signatureFault,
  ticketHash,
  uint256Bytes,
  verifyTicketSignature,
} from '#app/ticket';
import { EXAMPLE, RECIPIENT, SENDER, SENDER_KEY, exampleTicket, randomKey } from '../test/fixtures.js';

const backends = availableBackends();
const hash = ticketHash(exampleTicket());
const goodSig = hexToBytes(EXAMPLE.sig, 'sig', 65);

function withS(sig: Uint8Array, s: bigint): Uint8Array {
  const out = sig.slice();
  out.set(uint256Bytes(s), 32);
  return out;
}

describe.each(backends.map((b) => [b.name, b] as const))(
  'signatures with the %s backend',
  (_name, backend) => {
    it('signs the §2.3 example deterministically (RFC 6979, v = 28)', () => {
      expect(bytesToHex(personalDigest(hash))).toBe(EXAMPLE.digest);
      expect(bytesToHex(signTicketHash(hash, SENDER_KEY, backend))).toBe(EXAMPLE.sig);
      expect(verifyTicketSignature(SENDER, hash, goodSig, backend)).toBe(true);
    });

    it('refuses the high-s twin of a valid signature, although it recovers the same key', () => {
      const twin = withS(goodSig, SECP256K1_N - BigInt(bytesToHex(goodSig.subarray(32, 64))));
      twin[64] = goodSig[64] === 27 ? 28 : 27;
      expect(bytesToHex(backend.recoverAddress(personalDigest(hash), twin) ?? new Uint8Array())).toBe(
        bytesToHex(SENDER),
      );
      expect(signatureFault(SENDER, personalDigest(hash), twin, backend)).toBe(SignatureFault.HIGH_S);
    });

    it.each([
      [
        'v = 0/1',
        (s: Uint8Array) => Uint8Array.of(...s.subarray(0, 64), s[64] - 27),
        SignatureFault.RECOVERY_ID,
      ],
      ['v = 29', (s: Uint8Array) => Uint8Array.of(...s.subarray(0, 64), 29), SignatureFault.RECOVERY_ID],
      ['64 bytes (EIP-2098 compact)', (s: Uint8Array) => s.subarray(0, 64), SignatureFault.LENGTH],
      ['66 bytes', (s: Uint8Array) => Uint8Array.of(...s, 0), SignatureFault.LENGTH],
      ['empty', () => new Uint8Array(0), SignatureFault.LENGTH],
      [
        'r = 0',
        (s: Uint8Array) => Uint8Array.of(...new Uint8Array(32), ...s.subarray(32)),
        SignatureFault.UNRECOVERABLE,
      ],
      ['s = 0', (s: Uint8Array) => withS(s, 0n), SignatureFault.UNRECOVERABLE],
      [
        'r = n',
        (s: Uint8Array) => Uint8Array.of(...uint256Bytes(SECP256K1_N), ...s.subarray(32)),
        SignatureFault.UNRECOVERABLE,
      ],
    ] as const)('refuses %s', (_case, mutate, fault) => {
      expect(signatureFault(SENDER, personalDigest(hash), mutate(goodSig), backend)).toBe(fault);
      expect(verifyTicketSignature(SENDER, hash, mutate(goodSig), backend)).toBe(false);
    });

    it('refuses a signature by another key and one over the raw hash (no EIP-191 prefix)', () => {
      const other = signTicketHash(hash, randomKey(), backend);
      expect(signatureFault(SENDER, personalDigest(hash), other, backend)).toBe(SignatureFault.WRONG_SIGNER);
      const raw = backend.sign(hash, SENDER_KEY);
      expect(verifyTicketSignature(SENDER, hash, raw, backend)).toBe(false);
      expect(verifyTicketSignature(RECIPIENT, hash, goodSig, backend)).toBe(false);
    });

    it('round-trips sign → verify for random keys and hashes, and agrees with ethers', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (h) => {
          const key = randomKey();
          const sender = backend.addressOf(key);
          const sig = signTicketHash(h, key, backend);
          expect(sig[64] === 27 || sig[64] === 28).toBe(true);
          expect(verifyTicketSignature(sender, h, sig, backend)).toBe(true);
          const wallet = new Wallet(bytesToHex(key));
          expect(bytesToHex(sender)).toBe(wallet.address.toLowerCase());
          expect(bytesToHex(sig)).toBe(wallet.signingKey.sign(personalDigest(h)).serialized);
        }),
        { numRuns: backend.name === 'native' ? 200 : 40 },
      );
    });
  },
);

describe('backends agree', () => {
  it.skipIf(backends.length < 2)('recover the same address (or none) from random signature bytes', () => {
    const [native, noble] = backends;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(27, 28),
        (digest, rs, v) => {
          const sig = Uint8Array.of(...rs, v);
          const a = native.recoverAddress(digest, sig);
          const b = noble.recoverAddress(digest, sig);
          expect(a && bytesToHex(a)).toBe(b && bytesToHex(b));
        },
      ),
      { numRuns: 60 },
    );
  });

  it.skipIf(backends.length < 2)(
    'produce identical signatures and verdicts on random keys and digests',
    () => {
      const [native, noble] = backends;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (digest) => {
          const key = randomKey();
          const sig = native.sign(digest, key);
          expect(bytesToHex(noble.sign(digest, key))).toBe(bytesToHex(sig));
          expect(bytesToHex(native.addressOf(key))).toBe(bytesToHex(noble.addressOf(key)));
          const tampered = sig.slice();
          tampered[5] ^= 1;
          const a = native.recoverAddress(keccak256(digest), tampered);
          const b = noble.recoverAddress(keccak256(digest), tampered);
          expect(a && bytesToHex(a)).toBe(b && bytesToHex(b));
        }),
        { numRuns: 40 },
      );
    },
  );

  it('refuse invalid private keys with a typed error that does not echo the key', () => {
    for (const backend of backends) {
      for (const key of [new Uint8Array(32), uint256Bytes(SECP256K1_N), new Uint8Array(31).fill(1)]) {
        expect(() => backend.sign(hash, key)).toThrow('private key is invalid');
        expect(() => backend.addressOf(key)).toThrow('private key is invalid');
      }
    }
  });
});
