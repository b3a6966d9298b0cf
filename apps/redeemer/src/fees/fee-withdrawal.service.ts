import { Injectable, Logger } from '@nestjs/common';
import { ChainTxStatus, TxManager } from '#app/chain';
import { RedeemerChain } from '../redemption/redeemer-chain.js';
import { RedeemerError, RedeemerErrorCode } from '#app/clients';
import { simulatedTxGasLimit } from '../redemption/redemption-gas.js';

export interface WithdrawFeesRequest {
  /** Wei; default: all fees held for the signer. */
  amount?: bigint;
  /** Payee; default: the signer. */
  to?: string;
}

export interface WithdrawFeesResult {
  txHash: string;
  status: ChainTxStatus;
  amount: bigint;
  to: string;
}

/**
 * Withdraws the recipient's ticket earnings from the BondingManager (`withdrawFees`). The fees are
 * credited to the ticket recipient, so this works when the Redeemer signs as the recipient.
 */
@Injectable()
export class FeeWithdrawalService {
  private readonly logger = new Logger(FeeWithdrawalService.name);

  constructor(
    private readonly chain: RedeemerChain,
    private readonly txs: TxManager,
  ) {}

  async withdraw(request: WithdrawFeesRequest): Promise<WithdrawFeesResult> {
    const calls = this.chain.calls();
    const signer = this.txs.address;
    const head = await this.chain.head();
    const fees = await calls.pendingFees(signer, head.rounds.currentRound);
    const amount = request.amount ?? fees;
    const to = (request.to ?? signer).toLowerCase();
    if (amount === 0n || amount > fees) {
      throw new RedeemerError(
        RedeemerErrorCode.NO_FEES,
        `cannot withdraw ${amount} wei: ${fees} wei of fees are held for ${signer}`,
      );
    }
    const data = calls.encodeWithdrawFees(to, amount);
    const sim = await calls.simulate(signer, calls.bondingManagerAddress, data);
    if (!sim.ok) {
      throw new RedeemerError(
        RedeemerErrorCode.WITHDRAWAL_FAILED,
        `withdrawFees would fail: ${sim.error.message}`,
      );
    }
    const sent = await this.txs.send({
      purpose: 'withdraw-fees',
      to: calls.bondingManagerAddress,
      data,
      gasLimit: simulatedTxGasLimit(sim.gas),
    });
    const { record } = await this.txs.wait(sent.id);
    this.logger.log({
      msg: 'fees withdrawn',
      txHash: record.minedHash,
      status: record.status,
      amount: amount.toString(),
      to,
    });
    if (record.status !== ChainTxStatus.MINED) {
      throw new RedeemerError(
        RedeemerErrorCode.WITHDRAWAL_FAILED,
        `withdrawFees tx ${record.status}${record.errorCode ? ` (${record.errorCode})` : ''}`,
      );
    }
    return { txHash: record.minedHash!, status: record.status, amount, to };
  }
}
