import { makeError } from 'ethers';
import { describe, expect, it } from 'vitest';
import { ChainError, ChainErrorCode } from '../chain.error.js';
import { ChainTxError, classifyChainError, isAlreadyKnown } from './tx-error.js';

const nodeError = (message: string) =>
  makeError('could not coalesce error', 'UNKNOWN_ERROR', {
    error: { code: -32000, message },
    payload: { method: 'eth_sendRawTransaction', params: ['0xsigned'], id: 1, jsonrpc: '2.0' },
  });

describe('classifyChainError', () => {
  it('maps ethers codes', () => {
    const cases: [unknown, ChainErrorCode, boolean][] = [
      [
        makeError('insufficient funds', 'INSUFFICIENT_FUNDS', { transaction: {} }),
        ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS,
        true,
      ],
      [
        makeError('nonce has already been used', 'NONCE_EXPIRED', { transaction: {} }),
        ChainErrorCode.NONCE_TOO_LOW,
        true,
      ],
      [
        makeError('replacement fee too low', 'REPLACEMENT_UNDERPRICED', { transaction: {} }),
        ChainErrorCode.REPLACEMENT_UNDERPRICED,
        true,
      ],
      [
        makeError('timeout', 'TIMEOUT', { operation: 'x', reason: 'timeout' }),
        ChainErrorCode.CHAIN_UNAVAILABLE,
        true,
      ],
      [
        makeError('bad', 'INVALID_ARGUMENT', { argument: 'to', value: 1 }),
        ChainErrorCode.INVALID_TRANSACTION,
        false,
      ],
    ];
    for (const [err, code, retryable] of cases) {
      const c = classifyChainError(err);
      expect(c).toBeInstanceOf(ChainTxError);
      expect({ code: c.code, retryable: c.retryable }).toEqual({ code, retryable });
    }
  });

  it('keeps the revert reason or panic code of a call exception', () => {
    const reverted = makeError('execution reverted', 'CALL_EXCEPTION', {
      action: 'estimateGas',
      data: '0x08c379a0',
      reason: 'ticket is used',
      transaction: { to: null, data: '0x' },
      invocation: null,
      revert: { signature: 'Error(string)', name: 'Error', args: ['ticket is used'] },
    });
    const c = classifyChainError(reverted);
    expect(c).toMatchObject({
      code: ChainErrorCode.REVERTED,
      retryable: false,
      message: 'execution reverted: ticket is used',
    });
    expect(c.revert).toEqual({ reason: 'ticket is used', panic: undefined, data: '0x08c379a0' });

    const panic = makeError('execution reverted', 'CALL_EXCEPTION', {
      action: 'call',
      data: '0x4e487b71',
      reason: null,
      transaction: { to: null, data: '0x' },
      invocation: null,
      revert: { signature: 'Panic(uint256)', name: 'Panic', args: [0x11n] },
    });
    expect(classifyChainError(panic)).toMatchObject({
      message: 'execution reverted: panic 0x11',
      revert: { panic: 0x11n },
    });
  });

  it('reads node messages ethers leaves unclassified', () => {
    expect(classifyChainError(nodeError('max fee per gas less than block base fee')).code).toBe(
      ChainErrorCode.FEE_TOO_LOW,
    );
    expect(classifyChainError(nodeError('transaction underpriced')).code).toBe(ChainErrorCode.FEE_TOO_LOW);
    expect(classifyChainError(nodeError('replacement transaction underpriced')).code).toBe(
      ChainErrorCode.REPLACEMENT_UNDERPRICED,
    );
    expect(classifyChainError(nodeError('nonce too low: next nonce 5, tx nonce 4')).code).toBe(
      ChainErrorCode.NONCE_TOO_LOW,
    );
    expect(classifyChainError(nodeError('something odd')).code).toBe(ChainErrorCode.RPC_ERROR);
    expect(classifyChainError(nodeError('something odd')).retryable).toBe(true);
    expect(isAlreadyKnown(nodeError('already known'))).toBe(true);
    expect(isAlreadyKnown(nodeError('transaction already imported'))).toBe(true);
    expect(isAlreadyKnown(nodeError('nonce too low'))).toBe(false);
  });

  it('never carries the RPC URL or the request payload in its message', () => {
    const c = classifyChainError(
      new Error('request to https://user:apikey@rpc.example/v3/secret failed, reason: connect ECONNREFUSED'),
    );
    expect(c.code).toBe(ChainErrorCode.CHAIN_UNAVAILABLE);
    expect(c.message).not.toMatch(/apikey|secret|rpc\.example/);
    expect(classifyChainError(nodeError('boom')).message).not.toContain('0xsigned');
  });

  it('passes ChainErrors through with their code', () => {
    const c = classifyChainError(new ChainError(ChainErrorCode.CHAIN_UNAVAILABLE, 'down'));
    expect(c).toMatchObject({ code: ChainErrorCode.CHAIN_UNAVAILABLE, retryable: true, message: 'down' });
  });
});
