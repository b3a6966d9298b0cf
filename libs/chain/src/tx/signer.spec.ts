import { Wallet, encryptKeystoreJsonSync } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ChainErrorCode } from '../chain.error.js';
import { loadSigner } from './signer.js';

describe('loadSigner', () => {
  const wallet = Wallet.createRandom();
  // A cheap scrypt cost keeps the test fast; real keystores use the default.
  const json = encryptKeystoreJsonSync(
    { address: wallet.address, privateKey: wallet.privateKey },
    'correct horse',
    { scrypt: { N: 1 << 10 } },
  );

  it('opens a keystore with its password', async () => {
    const signer = await loadSigner({ kind: 'keystore', json, password: 'correct horse' });
    expect(signer.address).toBe(wallet.address);
  });

  it('says what is wrong without echoing secrets', async () => {
    await expect(loadSigner({ kind: 'keystore', json, password: 'battery staple' })).rejects.toMatchObject({
      code: ChainErrorCode.INVALID_SIGNER,
      message: 'the keystore password is wrong',
    });
    await expect(loadSigner({ kind: 'keystore', json: '{"nope":1}', password: 'x' })).rejects.toMatchObject({
      code: ChainErrorCode.INVALID_SIGNER,
    });
    const zeroKey = `0x${'00'.repeat(32)}`;
    const err = (await loadSigner({ kind: 'private-key', privateKey: zeroKey }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toMatchObject({ code: ChainErrorCode.INVALID_SIGNER });
    expect(err.message).not.toContain(zeroKey);
  });

  it('takes a raw key', async () => {
    const signer = await loadSigner({ kind: 'private-key', privateKey: wallet.privateKey });
    expect(signer.address).toBe(wallet.address);
  });
});
