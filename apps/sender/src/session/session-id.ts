import { SenderError, SenderErrorCode } from '../sender.error.js';

/** A session is one set of O's params used by one sender account. */
export interface SessionKey {
  /** Lowercase 0x-hex sender address. */
  readonly senderHex: string;
  /** Lowercase 0x-hex recipientRandHash: go-livepeer's session id (§7.1). */
  readonly recipientRandHashHex: string;
}

const SESSION_ID = /^(0x[0-9a-f]{40}):(0x[0-9a-f]{64})$/;

/**
 * `<sender>:<recipientRandHash>`. go-livepeer keys sessions by recipientRandHash alone; with
 * several accounts on one node the sender is part of the key, so one account's session can
 * never be driven with another's key.
 */
export function sessionId(key: SessionKey): string {
  return `${key.senderHex}:${key.recipientRandHashHex}`;
}

export function parseSessionId(id: unknown): SessionKey {
  const match = typeof id === 'string' ? SESSION_ID.exec(id) : null;
  if (!match) {
    throw new SenderError(
      SenderErrorCode.INVALID_REQUEST,
      'session_id must be "<sender 0x-hex>:<recipientRandHash 0x-hex>" as StartSession returned it',
    );
  }
  return { senderHex: match[1], recipientRandHashHex: match[2] };
}
