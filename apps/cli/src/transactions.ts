import type { ContractTransactionResponse, TransactionReceipt } from 'ethers';
import { chainFailure, type RevertExplainer } from './chain-errors.js';
import { CliError, CliErrorCode } from './cli.error.js';
import type { CommandContext } from './context.js';

export interface ConfirmedTx {
  txHash: string;
  blockNumber: number;
  gasUsed: bigint;
  confirmations: number;
  receipt: TransactionReceipt;
}

const POLL_MS = 250;
const MAX_CONFIRMATIONS = 1_000;
const DEFAULT_TIMEOUT_S = 300;

/**
 * Sends one transaction and waits for `--confirmations` (default 1) with a progress bar on stderr.
 * ethers simulates the call first (estimateGas), so a transaction the contract would refuse is
 * reported with its revert reason and never sent. A timeout leaves the transaction as it is and
 * says so: it may still be mined.
 */
export async function sendAndConfirm(
  ctx: CommandContext,
  label: string,
  send: () => Promise<ContractTransactionResponse>,
  explain?: RevertExplainer,
): Promise<ConfirmedTx> {
  const wanted = ctx.args.uint('confirmations', 1, MAX_CONFIRMATIONS);
  if (wanted < 1) throw new CliError(CliErrorCode.USAGE, '--confirmations must be at least 1');
  const timeoutMs = ctx.args.uint('timeout', DEFAULT_TIMEOUT_S) * 1_000;
  const provider = await ctx.provider();

  let tx: ContractTransactionResponse;
  try {
    tx = await send();
  } catch (err) {
    throw await chainFailure(err, explain);
  }

  const deadline = Date.now() + timeoutMs;
  ctx.progress.bar(label, 0, wanted, tx.hash);
  let receipt: TransactionReceipt | null = null;
  let confirmations: number;
  for (;;) {
    try {
      receipt ??= await provider.getTransactionReceipt(tx.hash);
      confirmations = receipt ? await receipt.confirmations() : 0;
    } catch (err) {
      throw await chainFailure(err);
    }
    ctx.progress.bar(label, Math.min(confirmations, wanted), wanted, tx.hash);
    if (receipt && confirmations >= wanted) break;
    if (Date.now() >= deadline) {
      throw new CliError(
        CliErrorCode.TIMEOUT,
        `${label}: transaction ${tx.hash} has ${confirmations}/${wanted} confirmations after ${timeoutMs / 1000} s; ` +
          'it may still be mined: check it before sending again',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  ctx.progress.end();
  if (receipt.status !== 1) {
    throw new CliError(
      CliErrorCode.TX_REVERTED,
      `${label}: transaction ${tx.hash} reverted on-chain in block ${receipt.blockNumber}`,
    );
  }
  return {
    txHash: tx.hash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    confirmations,
    receipt,
  };
}

/** The JSON shape of a confirmed transaction. */
export function txJson(tx: ConfirmedTx): Record<string, unknown> {
  return {
    txHash: tx.txHash,
    blockNumber: tx.blockNumber,
    gasUsed: tx.gasUsed,
    confirmations: tx.confirmations,
  };
}
