import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PrivateKeySigner } from './account-signer.js';
import { bytesToHex, hexToBytes } from './bytes.js';
import { nobleBackend } from './crypto/noble-backend.js';
import { availableBackends } from './crypto/select-backend.js';
import { TicketError } from './errors.js';
import { Rational } from './rational.js';
import { verifyTicketSignature } from './signature.js';
import { createTicketBatch, signTicketBatch } from './ticket-signer.js';
import type { TicketParams } from './types.js';

const KEY_HEX = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY = hexToBytes(KEY_HEX, 'key', 32);
const ADDRESS = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';

const params: TicketParams = {
  recipient: hexToBytes('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'recipient', 20),
  faceValue: 1_000_000n,
  winProb: 1n << 200n,
  recipientRandHash: new Uint8Array(32).fill(7),
  seed: 5n,
  expirationBlock: 100n,
  expirationParams: { creationRound: 0n, creationRoundBlockHash: new Uint8Array(32) },
};
const template = {
  params,
  expirationParams: { creationRound: 12n, creationRoundBlockHash: new Uint8Array(32).fill(0xab) },
  pricePerPixel: Rational.of(3n),
  nonces: [1, 2, 3],
};

describe('PrivateKeySigner', () => {
  it.each(availableBackends().map((b) => [b.name, b] as const))(
    'signs EIP-191 personal messages of 32-byte hashes with v ∈ {27, 28} (%s)',
    async (_name, backend) => {
      const signer = new PrivateKeySigner(KEY, 'test', backend);
      expect(signer.addressHex).toBe(ADDRESS);
      const hash = new Uint8Array(32).fill(0x42);
      const sig = await signer.signPersonal(hash);
      expect(sig).toHaveLength(65);
      expect([27, 28]).toContain(sig[64]);
      expect(verifyTicketSignature(signer.address, hash, sig, nobleBackend)).toBe(true);
      expect(await signer.signPersonalBatch([hash, hash])).toEqual([sig, sig]);
    },
  );

  it('refuses a hash that is not 32 bytes as a rejected promise, not a throw', async () => {
    const signer = new PrivateKeySigner(KEY, 'test');
    await expect(signer.signPersonal(new Uint8Array(31))).rejects.toBeInstanceOf(TicketError);
    await expect(signer.signPersonalBatch([new Uint8Array(33)])).rejects.toBeInstanceOf(TicketError);
  });

  it('keeps its key out of JSON and inspection', () => {
    const signer = new PrivateKeySigner(KEY, 'keystore.json');
    const keyHex = KEY_HEX.slice(2);
    expect(JSON.stringify(signer)).not.toContain(keyHex);
    expect(inspect(signer, { depth: 5, showHidden: true })).not.toContain(keyHex);
    expect(inspect(signer, { depth: 5 })).not.toMatch(/172, 9, 116/);
  });
});

describe('signTicketBatch', () => {
  it('builds the same batch through the port as createTicketBatch with the key', async () => {
    const signer = new PrivateKeySigner(KEY, 'test');
    const viaPort = await signTicketBatch(template, signer);
    const direct = createTicketBatch({ ...template, privateKey: KEY });
    expect(bytesToHex(viaPort.sender)).toBe(ADDRESS);
    expect(viaPort).toEqual(direct);
  });
});
