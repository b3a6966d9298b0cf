import { zeroPadValue, type Provider } from 'ethers';
import { auxData, bytesToHex, hexToBytes } from '#app/ticket';
import {
  bondingManagerAt,
  ticketBrokerAt,
  type BondingManagerContract,
  type TicketBrokerContract,
  type TicketInput,
} from '../bindings.js';
import { ChainErrorCode } from '../chain.error.js';
import { DEFAULT_LOGS_MAX_BLOCKS, getLogsInRange } from '../log-range.js';
import {
  decodeRedeemed,
  decodeTransferAmount,
  encodeBatchRedeemCall,
  encodeRedeemCall,
  type RawLog,
  type RedeemArgs,
  type TicketTuple,
} from './redemption-abi.js';
import { callRaw, estimateGasRaw } from './raw-rpc.js';
import { ChainTxError, classifyChainError, isOutOfGas } from './tx-error.js';

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

/** A ticket's redemption as the broker's logs show it: which tx, in which block. */
export interface FoundRedemption extends RedeemedTicket {
  txHash: string;
  blockNumber: bigint;
  blockHash: string;
}

/** A log as a receipt or eth_getLogs carries it. */
interface BrokerLog extends RawLog {
  address: string;
}

export type Simulation = { ok: true; gas: bigint } | { ok: false; error: ChainTxError };

/** A call run with a gas limit: completed, reverted for a stated reason, or neither (only an estimate can tell). */
export type GasCheck = { kind: 'ok' } | { kind: 'reverted'; error: ChainTxError } | { kind: 'unclear' };

/** The stored ticket's auxData, by the ticket library's rule (the one its hash and signature cover). */
function auxDataOf(t: RedeemableTicket): string {
  const creationRoundBlockHash = hexToBytes(t.creationRoundBlockHash, 'creationRoundBlockHash', 32);
  return bytesToHex(auxData({ creationRound: t.creationRound, creationRoundBlockHash }));
}

/** The contract's ticket tuple. */
export function ticketInput(t: RedeemableTicket): TicketInput & TicketTuple {
  return {
    recipient: t.recipient,
    sender: t.sender,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    recipientRandHash: t.recipientRandHash,
    auxData: auxDataOf(t),
  };
}

const redeemArgs = (t: RedeemableTicket): RedeemArgs => ({
  ticket: ticketInput(t),
  sig: t.sig,
  recipientRand: t.recipientRand,
});

/** The TicketBroker and BondingManager calls the redeemer makes: reads, simulations, calldata, receipts. */
export class RedemptionCalls {
  readonly broker: TicketBrokerContract;
  readonly bonding: BondingManagerContract;
  /** Topic hashes of the two events redeemedIn reads, and the redemption selectors, computed once. */
  private readonly transferTopic: string;
  private readonly redeemedTopic: string;
  private readonly redeemSelector: string;
  private readonly batchRedeemSelector: string;

  constructor(
    private readonly provider: Provider,
    readonly brokerAddress: string,
    readonly bondingManagerAddress: string,
    /** Most blocks per eth_getLogs request (ETH_LOGS_MAX_BLOCKS). */
    private readonly logsMaxBlocks: number = DEFAULT_LOGS_MAX_BLOCKS,
  ) {
    this.broker = ticketBrokerAt(brokerAddress, provider);
    this.bonding = bondingManagerAt(bondingManagerAddress, provider);
    const iface = this.broker.interface;
    this.transferTopic = iface.getEvent('WinningTicketTransfer')!.topicHash;
    this.redeemedTopic = iface.getEvent('WinningTicketRedeemed')!.topicHash;
    this.redeemSelector = iface.getFunction('redeemWinningTicket')!.selector;
    this.batchRedeemSelector = iface.getFunction('batchRedeemWinningTickets')!.selector;
  }

  /** The latest block's gas limit: no tx, so no batch, may need more. */
  async blockGasLimit(): Promise<bigint> {
    const block = await this.provider.getBlock('latest');
    if (!block) throw new ChainTxError(ChainErrorCode.CHAIN_UNAVAILABLE, 'no latest block');
    return block.gasLimit;
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

  /** Calldata of redeemWinningTicket (hand-encoded: redemption-abi.ts). */
  encodeRedeem(t: RedeemableTicket): string {
    return encodeRedeemCall(this.redeemSelector, redeemArgs(t));
  }

  /** Calldata of batchRedeemWinningTickets (hand-encoded: redemption-abi.ts). */
  encodeBatchRedeem(tickets: readonly RedeemableTicket[]): string {
    return encodeBatchRedeemCall(this.batchRedeemSelector, tickets.map(redeemArgs));
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
      return { ok: true, gas: await estimateGasRaw(this.provider, { from, to, data }) };
    } catch (err) {
      const error = classifyChainError(err);
      if (error.code === ChainErrorCode.REVERTED) return { ok: false, error };
      throw error;
    }
  }

  /**
   * One eth_call as `from` with at most `gas`: one EVM run, where eth_estimateGas runs a binary
   * search of them. A revert with a reason (or panic) decides a ticket as the estimate would; a
   * call that ran out of gas, or reverted without saying why (nodes differ on how they report
   * running out), is `unclear`. Other failures are thrown, classified.
   */
  async check(from: string, to: string, data: string, gas: bigint): Promise<GasCheck> {
    try {
      await callRaw(this.provider, { from, to, data, gas });
      return { kind: 'ok' };
    } catch (err) {
      if (isOutOfGas(err)) return { kind: 'unclear' };
      const error = classifyChainError(err);
      if (error.code !== ChainErrorCode.REVERTED) throw error;
      const stated = error.revert?.reason !== undefined || error.revert?.panic !== undefined;
      return stated ? { kind: 'reverted', error } : { kind: 'unclear' };
    }
  }

  /**
   * The tickets a mined receipt redeemed, keyed by ticket hash. A batch never reverts for a bad
   * ticket (§4.7), so `WinningTicketRedeemed` logs are the only evidence of which ones went through;
   * the hash is rebuilt from the event's fields.
   */
  redeemedIn(receipt: { logs: readonly BrokerLog[] }): Map<string, RedeemedTicket> {
    const out = new Map<string, RedeemedTicket>();
    const broker = this.brokerAddress.toLowerCase();
    let paid = 0n;
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== broker) continue;
      // Matched by topic, then decoded by hand (redemption-abi.ts): no per-log ABI machinery.
      const topic = log.topics[0];
      if (topic === this.transferTopic) {
        paid = decodeTransferAmount(log);
      } else if (topic === this.redeemedTopic) {
        const { ticketHash, faceValue } = decodeRedeemed(log);
        out.set(ticketHash, { ticketHash, faceValue, amountPaid: paid });
        paid = 0n;
      }
    }
    return out;
  }

  /**
   * The redemptions of `sender`'s tickets to `recipient` from `fromBlock` to the latest block, keyed by
   * ticket hash, from the broker's logs (logs stay readable where a node no longer finds a receipt
   * by its tx hash): who redeemed a ticket, when, and what it paid. The range is read in spans a
   * provider accepts (getLogsInRange).
   */
  async redemptionsOf(
    sender: string,
    recipient: string,
    fromBlock: bigint,
  ): Promise<Map<string, FoundRedemption>> {
    // Both events index (sender, recipient): one query brings each payment with its redemption. A
    // tx's logs are all in one block, so no span boundary separates a payment from its redemption.
    const query = {
      address: this.brokerAddress,
      topics: [
        [this.transferTopic, this.redeemedTopic],
        zeroPadValue(sender, 32),
        zeroPadValue(recipient, 32),
      ],
    };
    const logs = await getLogsInRange(
      this.provider,
      query,
      { from: fromBlock, to: 'latest' },
      this.logsMaxBlocks,
    );
    const byTx = new Map<string, typeof logs>();
    for (const log of logs) byTx.set(log.transactionHash, [...(byTx.get(log.transactionHash) ?? []), log]);
    const out = new Map<string, FoundRedemption>();
    for (const [txHash, txLogs] of byTx) {
      const { blockHash } = txLogs[0];
      const blockNumber = BigInt(txLogs[0].blockNumber);
      for (const [hash, r] of this.redeemedIn({ logs: txLogs })) {
        out.set(hash, { ...r, txHash, blockNumber, blockHash });
      }
    }
    return out;
  }
}
