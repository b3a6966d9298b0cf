import {
  ZeroHash,
  concat,
  keccak256,
  solidityPackedKeccak256,
  toBeHex,
  zeroPadValue,
  type Provider,
  type TransactionReceipt,
} from 'ethers';
import {
  bondingManagerAt,
  ticketBrokerAt,
  type BondingManagerContract,
  type TicketBrokerContract,
  type TicketInput,
} from '../bindings.js';
import { ChainErrorCode } from '../chain.error.js';
import { classifyChainError, type ChainTxError } from './tx-error.js';

/** A stored winning ticket, as much of it as redemption needs. Hex fields are 0x-prefixed. */
export interface RedeemableTicket {
  ticketHash: string;
  recipient: string;
  sender: string;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: string;
  creationRound: bigint;
  creationRoundBlockHash: string;
  sig: string;
  recipientRand: bigint;
}

/** What a sender can pay one recipient right now (TicketBroker §4.5 step 13, §4.6). */
export interface SenderFunds {
  deposit: bigint;
  fundsRemaining: bigint;
  /** claimableReserve(sender, recipient); 0 when the view reverts (pool grew mid-round, §8). */
  claimable: bigint;
  withdrawRound: bigint;
  /** deposit + min(fundsRemaining, claimable): the most a redemption can pay without a shortfall. */
  available: bigint;
}

/** A ticket the receipt shows redeemed, and what the recipient was actually paid for it. */
export interface RedeemedTicket {
  ticketHash: string;
  faceValue: bigint;
  /** From the WinningTicketTransfer before it; below faceValue when the sender was short (§4.5 step 13). */
  amountPaid: bigint;
}

export type Simulation = { ok: true; gas: bigint } | { ok: false; error: ChainTxError };

/** The contract's ticket tuple; auxData as go-livepeer builds it (empty only when both parts are zero). */
export function ticketInput(t: RedeemableTicket): TicketInput {
  const hasAux = t.creationRound !== 0n || t.creationRoundBlockHash !== ZeroHash;
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    recipientRandHash: t.recipientRandHash,
    auxData: hasAux ? concat([zeroPadValue(toBeHex(t.creationRound), 32), t.creationRoundBlockHash]) : '0x',
  };
}

/** The TicketBroker and BondingManager calls the redeemer makes: reads, simulations, calldata, receipts. */
export class RedemptionCalls {
  readonly broker: TicketBrokerContract;
  readonly bonding: BondingManagerContract;

  constructor(
    private readonly provider: Provider,
    readonly brokerAddress: string,
    readonly bondingManagerAddress: string,
  ) {
    this.broker = ticketBrokerAt(brokerAddress, provider);
    this.bonding = bondingManagerAt(bondingManagerAddress, provider);
  }

  isUsed(ticketHash: string): Promise<boolean> {
    return this.broker.usedTickets(ticketHash);
  }

  ticketValidityPeriod(): Promise<bigint> {
    return this.broker.ticketValidityPeriod();
  }

  async senderFunds(sender: string, recipient: string): Promise<SenderFunds> {
    const [info, claimable] = await Promise.all([
      this.broker.getSenderInfo(sender),
      this.broker.claimableReserve(sender, recipient).catch((err: unknown) => {
        if (classifyChainError(err).code === ChainErrorCode.REVERTED) return 0n;
        throw err;
      }),
    ]);
    const deposit = info.sender.deposit;
    const fundsRemaining = info.reserve.fundsRemaining;
    const fromReserve = claimable < fundsRemaining ? claimable : fundsRemaining;
    return {
      deposit,
      fundsRemaining,
      claimable,
      withdrawRound: info.sender.withdrawRound,
      available: deposit + fromReserve,
    };
  }

  /** Fees the BondingManager holds for `account` (mainnet: pendingFees up to `round`). */
  pendingFees(account: string, round: bigint): Promise<bigint> {
    return this.bonding.pendingFees(account, round);
  }

  encodeRedeem(t: RedeemableTicket): string {
    return this.broker.interface.encodeFunctionData('redeemWinningTicket', [
      ticketInput(t),
      t.sig,
      t.recipientRand,
    ]);
  }

  encodeBatchRedeem(tickets: readonly RedeemableTicket[]): string {
    return this.broker.interface.encodeFunctionData('batchRedeemWinningTickets', [
      tickets.map(ticketInput),
      tickets.map((t) => t.sig),
      tickets.map((t) => t.recipientRand),
    ]);
  }

  encodeWithdrawFees(to: string, amount: bigint): string {
    return this.bonding.interface.encodeFunctionData('withdrawFees', [to, amount]);
  }

  /**
   * eth_estimateGas as `from`: the gas a call needs, or how it reverts (the reason is what decides
   * a ticket's fate before any tx is sent). Non-revert failures are thrown, classified.
   */
  async simulate(from: string, to: string, data: string): Promise<Simulation> {
    try {
      return { ok: true, gas: await this.provider.estimateGas({ from, to, data }) };
    } catch (err) {
      const error = classifyChainError(err);
      if (error.code === ChainErrorCode.REVERTED) return { ok: false, error };
      throw error;
    }
  }

  /**
   * The tickets a mined receipt redeemed, keyed by ticket hash. A batch never reverts for a bad
   * ticket (§4.7), so `WinningTicketRedeemed` logs are the only evidence of which ones went through;
   * the hash is rebuilt from the event's fields.
   */
  redeemedIn(receipt: TransactionReceipt): Map<string, RedeemedTicket> {
    const out = new Map<string, RedeemedTicket>();
    const broker = this.brokerAddress.toLowerCase();
    let paid = 0n;
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== broker) continue;
      const parsed = this.broker.interface.parseLog(log);
      if (!parsed) continue;
      if (parsed.name === 'WinningTicketTransfer') {
        paid = parsed.args.amount as bigint;
      } else if (parsed.name === 'WinningTicketRedeemed') {
        const a = parsed.args;
        const ticketHash = solidityPackedKeccak256(
          ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
          [
            a.recipient as string,
            a.sender as string,
            a.faceValue as bigint,
            a.winProb as bigint,
            a.senderNonce as bigint,
            keccak256(zeroPadValue(toBeHex(a.recipientRand as bigint), 32)),
            a.auxData as string,
          ],
        );
        out.set(ticketHash.toLowerCase(), { ticketHash, faceValue: a.faceValue as bigint, amountPaid: paid });
        paid = 0n;
      }
    }
    return out;
  }
}
