import { TicketError, TicketErrorCode } from '../errors.js';
import type { CryptoBackend, CryptoBackendName } from './backend.js';
import { createNativeBackend } from './native-backend.js';
import { nobleBackend } from './noble-backend.js';

let native: CryptoBackend | null | undefined;

/** The libsecp256k1 backend, or null when its addon cannot be loaded on this machine. */
export function nativeBackend(): CryptoBackend | null {
  if (native === undefined) {
    try {
      native = createNativeBackend();
    } catch {
      native = null;
    }
  }
  return native;
}

/** Backends that work here, fastest first. */
export function availableBackends(): CryptoBackend[] {
  const fast = nativeBackend();
  return fast ? [fast, nobleBackend] : [nobleBackend];
}

/**
 * The backend to use: native when it loads, otherwise the pure-JS one. Asking for `native`
 * explicitly throws when it is unavailable rather than silently running 30× slower.
 */
export function selectCryptoBackend(preference: CryptoBackendName | 'auto' = 'auto'): CryptoBackend {
  if (preference === 'noble') return nobleBackend;
  const fast = nativeBackend();
  if (fast) return fast;
  if (preference === 'native') {
    throw new TicketError(
      TicketErrorCode.CRYPTO_BACKEND_UNAVAILABLE,
      'the native secp256k1 backend could not be loaded',
    );
  }
  return nobleBackend;
}
