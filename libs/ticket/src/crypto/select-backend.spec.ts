import { describe, expect, it, vi } from 'vitest';

describe('crypto backend selection', () => {
  it('prefers the native binding when it loads', async () => {
    const { selectCryptoBackend, availableBackends } = await import('./select-backend.js');
    expect(selectCryptoBackend().name).toBe('native');
    expect(selectCryptoBackend('noble').name).toBe('noble');
    expect(availableBackends().map((b) => b.name)).toEqual(['native', 'noble']);
  });

  it('falls back to the pure-JS backend when the native one cannot load', async () => {
    vi.resetModules();
    vi.doMock('./native-backend.js', () => ({
      createNativeBackend: () => {
        throw new Error('Cannot find module secp256k1/bindings.js');
      },
    }));
    try {
      const { selectCryptoBackend, availableBackends, nativeBackend } = await import('./select-backend.js');
      expect(nativeBackend()).toBeNull();
      expect(selectCryptoBackend().name).toBe('noble');
      expect(availableBackends().map((b) => b.name)).toEqual(['noble']);
      expect(() => selectCryptoBackend('native')).toThrow(
        expect.objectContaining({ code: 'CRYPTO_BACKEND_UNAVAILABLE' }),
      );
    } finally {
      vi.doUnmock('./native-backend.js');
      vi.resetModules();
    }
  });
});
