import { isError } from 'ethers';
import { ChainError, ChainErrorCode } from '../chain.error.js';
import { withoutUrls } from '#app/core';

/** How a call or transaction reverted, when the node told us. */
export interface RevertInfo {
  /** The `Error(string)` reason. */
  reason?: string;
  /** The `Panic(uint256)` code. */
  panic?: bigint;
  /** Raw revert data, 0x-prefixed. */
  data?: string;
}

/** Codes a caller may retry (after reconciling nonces, bumping fees, topping up, or waiting). */
const RETRYABLE: ReadonlySet<ChainErrorCode> = new Set([
  ChainErrorCode.CHAIN_UNAVAILABLE,
  ChainErrorCode.NONCE_TOO_LOW,
  ChainErrorCode.REPLACEMENT_UNDERPRICED,
  ChainErrorCode.FEE_TOO_LOW,
  ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS,
  ChainErrorCode.TX_DROPPED,
  ChainErrorCode.RPC_ERROR,
]);

/**
 * A chain failure after classification: a stable code, whether retrying can help, and the
 * revert details when it reverted. The message never carries the RPC URL or request payloads.
 */
export class ChainTxError extends ChainError {
  readonly retryable: boolean;

  constructor(
    code: ChainErrorCode,
    message: string,
    readonly revert?: RevertInfo,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.retryable = RETRYABLE.has(code);
  }
}

/**
 * A send that failed after its tx may have been stored (the store's insert failed with no answer
 * to say it did not commit): the tx may still be followed and mined, so what it acts on must stay
 * with it. Every other send failure stored nothing.
 */
export class TxMaybeStoredError extends ChainTxError {}

const MAX_MESSAGE = 300;

/**
 * Classifies anything ethers (or the node behind it) throws into a `ChainTxError`, once, so the
 * rest of the code switches on codes instead of matching strings. Node messages differ (geth,
 * anvil, Arbitrum's nitro), hence the text fallbacks after ethers' own codes.
 */
export function classifyChainError(err: unknown): ChainTxError {
  if (err instanceof ChainTxError) return err;
  if (err instanceof ChainError) return new ChainTxError(err.code, err.message, undefined, { cause: err });
  const text = errorText(err);
  const short = safeMessage(err);
  const make = (code: ChainErrorCode, revert?: RevertInfo) =>
    new ChainTxError(code, short, revert, { cause: err });

  if (isError(err, 'CALL_EXCEPTION')) {
    const revert = revertOf(err);
    const why =
      revert.reason ?? (revert.panic !== undefined ? `panic 0x${revert.panic.toString(16)}` : undefined);
    return new ChainTxError(
      ChainErrorCode.REVERTED,
      why ? `execution reverted: ${why}` : 'execution reverted',
      revert,
      { cause: err },
    );
  }
  if (isError(err, 'INSUFFICIENT_FUNDS')) return make(ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS);
  if (isError(err, 'NONCE_EXPIRED')) return make(ChainErrorCode.NONCE_TOO_LOW);
  if (isError(err, 'REPLACEMENT_UNDERPRICED')) return make(ChainErrorCode.REPLACEMENT_UNDERPRICED);
  if (isError(err, 'TRANSACTION_REPLACED')) return make(ChainErrorCode.TX_DROPPED);
  if (isError(err, 'TIMEOUT') || isError(err, 'NETWORK_ERROR') || isError(err, 'SERVER_ERROR')) {
    return make(ChainErrorCode.CHAIN_UNAVAILABLE);
  }
  if (
    isError(err, 'INVALID_ARGUMENT') ||
    isError(err, 'MISSING_ARGUMENT') ||
    isError(err, 'UNEXPECTED_ARGUMENT') ||
    isError(err, 'NUMERIC_FAULT') ||
    isError(err, 'BAD_DATA')
  ) {
    return make(ChainErrorCode.INVALID_TRANSACTION);
  }

  if (/replacement transaction underpriced|replacement fee too low/.test(text)) {
    return make(ChainErrorCode.REPLACEMENT_UNDERPRICED);
  }
  if (/nonce too low|nonce has already been used|nonce is too low/.test(text)) {
    return make(ChainErrorCode.NONCE_TOO_LOW);
  }
  if (
    /max fee per gas less than block base fee|fee cap less than block base fee|feecap too low|transaction underpriced|gas price too low|gas price less than|underpriced/.test(
      text,
    )
  ) {
    return make(ChainErrorCode.FEE_TOO_LOW);
  }
  if (/insufficient funds/.test(text)) return make(ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS);
  if (/execution reverted|reverted/.test(text)) return make(ChainErrorCode.REVERTED);
  if (/econnrefused|econnreset|etimedout|enotfound|socket hang up|fetch failed|network|timeout/.test(text)) {
    return make(ChainErrorCode.CHAIN_UNAVAILABLE);
  }
  return make(ChainErrorCode.RPC_ERROR);
}

/**
 * True when a call ran out of the gas it was given (geth and nitro: "out of gas"; anvil:
 * "OutOfGas"; estimates: "gas required exceeds allowance"; or the intrinsic gas alone was too much).
 */
export function isOutOfGas(err: unknown): boolean {
  return /out of gas|outofgas|gas required exceeds|intrinsic gas too low/.test(errorText(err));
}

/** True when a broadcast failed only because the node already holds this exact transaction. */
export function isAlreadyKnown(err: unknown): boolean {
  return /already known|already imported|known transaction|transaction already exists/.test(errorText(err));
}

function revertOf(err: {
  revert?: { name: string; args: readonly unknown[] } | null;
  data?: string | null;
}): RevertInfo {
  const revert = err.revert;
  return {
    reason: revert?.name === 'Error' ? String(revert.args[0]) : undefined,
    panic: revert?.name === 'Panic' ? BigInt(revert.args[0] as bigint) : undefined,
    data: err.data ?? undefined,
  };
}

/** Every message the error and its nested node error carry, lowercased, for matching only (never logged). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (depth > 4 || e === null || typeof e !== 'object') {
      if (typeof e === 'string') parts.push(e);
      return;
    }
    const o = e as Record<string, unknown>;
    for (const key of ['shortMessage', 'message', 'reason']) {
      if (typeof o[key] === 'string') parts.push(o[key]);
    }
    visit(o.error, depth + 1);
    visit(o.info, depth + 1);
    visit(o.cause, depth + 1);
  };
  visit(err, 0);
  return parts.join(' | ').toLowerCase();
}

/**
 * A short message safe to log: ethers' `shortMessage` (without the request payload, which may hold
 * a signed tx), with anything URL-shaped removed because RPC URLs can embed API keys.
 */
function safeMessage(err: unknown): string {
  const o = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const nested = (o.error ?? (o.info as Record<string, unknown> | undefined)?.error) as
    Record<string, unknown> | undefined;
  const raw =
    (typeof nested?.message === 'string' ? nested.message : undefined) ??
    (typeof o.shortMessage === 'string' ? o.shortMessage : undefined) ??
    (err instanceof Error ? err.message : String(err));
  const clean = withoutUrls(raw);
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}…` : clean;
}
