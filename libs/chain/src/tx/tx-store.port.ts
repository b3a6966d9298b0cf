import type { MinedL1Blocks } from './mining-delays.js';

/** Lifecycle of one transaction (one nonce of one signer). Only `pending` is not final. */
export enum ChainTxStatus {
  /** Signed and stored; broadcast, or about to be. */
  PENDING = 'pending',
  /** Mined with status 1 and confirmed. */
  MINED = 'mined',
  /** Mined with status 0 and confirmed. */
  REVERTED = 'reverted',
  /** Never mined: its nonce went to another tx, or every node refused it. */
  DROPPED = 'dropped',
}

/** EIP-1559 fee fields, or `gasPrice` alone on a chain without a base fee. */
/** Purposes of the txs that redeem winning tickets: one ticket, or a batch. */
export const REDEMPTION_TX_PURPOSES = { single: 'redeem', batch: 'batch-redeem' } as const;

/** Whether a tx of `purpose` redeems winning tickets. */
export const isRedemptionTx = (purpose: string): boolean =>
  purpose === REDEMPTION_TX_PURPOSES.single || purpose === REDEMPTION_TX_PURPOSES.batch;

export interface TxFees {
  maxFeePerGas: bigint | null;
  maxPriorityFeePerGas: bigint | null;
  gasPrice: bigint | null;
}

export interface NewChainTx extends TxFees {
  chainId: bigint;
  /** Lowercase 0x address. */
  signer: string;
  nonce: bigint;
  /** What the tx is for (REDEMPTION_TX_PURPOSES, `withdraw-fees`): a label for ops and metrics. */
  purpose: string;
  to: string;
  data: string;
  value: bigint;
  gasLimit: bigint;
  /**
   * Opaque references to what the tx acts on (ticket hashes), stored atomically with the tx so a
   * crash right after signing can be traced back to the work it was doing.
   */
  refs: readonly string[];
  hash: string;
  /** The signed tx, so it can be re-broadcast after a crash without re-signing. */
  rawTx: string;
  /** Block number when it was (about to be) broadcast: the start of the stuck-tx clock. */
  sentBlock: bigint;
  /**
   * L1 block of the head the sender judged the send at (as the head source reads it), when it
   * judged one: the start of the tx's mining delay (MiningDelays).
   */
  judgedL1Block?: bigint;
}

export interface ChainTxRecord extends TxFees {
  id: string;
  chainId: bigint;
  signer: string;
  nonce: bigint;
  purpose: string;
  to: string;
  data: string;
  value: bigint;
  gasLimit: bigint;
  refs: string[];
  /** Every signed variant at this nonce, oldest first; the last one is the current one. */
  hashes: string[];
  rawTx: string;
  status: ChainTxStatus;
  sentBlock: bigint;
  judgedL1Block: bigint | null;
  replacements: number;
  minedHash: string | null;
  blockNumber: bigint | null;
  /**
   * The hash of the block at `blockNumber` that mined it, when its outcome came from a receipt
   * (an outcome corrected from logs, or written before it was stored, has none).
   */
  blockHash: string | null;
  /** L1 block of `blockNumber`, once the round-end margin has read it (txs with `judgedL1Block` only). */
  minedL1Block: bigint | null;
  gasUsed: bigint | null;
  effectiveGasPrice: bigint | null;
  errorCode: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface TxReplacement extends TxFees {
  hash: string;
  rawTx: string;
  sentBlock: bigint;
}

export interface TxFinish {
  status: ChainTxStatus.MINED | ChainTxStatus.REVERTED | ChainTxStatus.DROPPED;
  minedHash?: string;
  blockNumber?: bigint;
  blockHash?: string;
  gasUsed?: bigint;
  effectiveGasPrice?: bigint;
  errorCode?: string;
}

/**
 * Durable record of a signer's transactions and nonce: the TxManager's persisted nonce source.
 * A port: the service that owns the signer implements it over its database.
 */
/** What a stored tx must still be for TxStore.correct to rewrite it. */
export type TxVersion = Pick<ChainTxRecord, 'status' | 'replacements'>;

export abstract class TxStore {
  /**
   * Stores a signed tx and advances the signer's stored next nonce past it, in one database
   * transaction. Rejects a second live tx at the same nonce.
   */
  abstract insert(tx: NewChainTx): Promise<ChainTxRecord>;

  /** Records a same-nonce replacement (bumped fees) before it is broadcast. */
  abstract addReplacement(id: string, replacement: TxReplacement): Promise<ChainTxRecord>;

  /** Moves a pending tx to its final status; a no-op returning the row if it is final already. */
  abstract finish(id: string, outcome: TxFinish): Promise<ChainTxRecord>;

  /**
   * Rewrites the final status of tx `id` when the chain turned out to say otherwise than the row
   * (a dropped tx mined after all under another of its hashes, a mined tx whose receipt is gone),
   * or finishes a pending tx of a signer no Redeemer follows any more (settled by another signer):
   * only if its status is still `from` (a row's status and replacement count: also unchanged since
   * it was read, no variant signed since). `trx` is an open transaction of the store's own kind (its
   * database's), so the fix commits with what the caller writes from it. Returns whether it changed.
   */
  abstract correct(
    id: string,
    from: ChainTxStatus | TxVersion,
    outcome: TxFinish,
    trx?: unknown,
  ): Promise<boolean>;

  /**
   * Makes final tx `id` pending again (no mined block, receipt fields, finish time, nor judged
   * head: its delay teaches nothing; its sent block stays, where searches for its logs start), only
   * if it is still `from` (status and replacement count): a reorganisation deeper than the
   * confirmations took it off the chain or mined it elsewhere, and it is followed again as any
   * pending tx. `trx` as for `correct`. Returns the reopened row, or null if it changed since it
   * was read.
   */
  abstract reopen(id: string, from: TxVersion, trx?: unknown): Promise<ChainTxRecord | null>;

  /**
   * Whether tx `id` is still `version` (status and replacement count), read in `trx` with the row
   * locked until it commits: what a caller writes from its outcome then commits before, or not at
   * all after, any other change of it (a reopen, another settlement's correction).
   */
  abstract holdsVersion(id: string, version: TxVersion, trx: unknown): Promise<boolean>;

  abstract get(id: string): Promise<ChainTxRecord | null>;

  /**
   * The tx of `signer` at `nonce` signed under `hash`, if stored: whether an insert whose answer
   * was lost (connection reset after the commit) stored it after all.
   */
  abstract findSigned(
    chainId: bigint,
    signer: string,
    nonce: bigint,
    hash: string,
  ): Promise<ChainTxRecord | null>;

  /** The signer's tx that holds `nonce` (any status but dropped), if one is stored. */
  abstract liveAtNonce(chainId: bigint, signer: string, nonce: bigint): Promise<ChainTxRecord | null>;

  /** The signer's txs that are not dropped (pending, mined or reverted), highest nonce first, at most `limit`. */
  abstract latestLive(chainId: bigint, signer: string, limit: number): Promise<ChainTxRecord[]>;

  /** The signer's pending txs, lowest nonce first. */
  abstract listOpen(chainId: bigint, signer: string): Promise<ChainTxRecord[]>;

  /** The newest tx (any status) whose refs include `ref`. */
  abstract latestByRef(ref: string): Promise<ChainTxRecord | null>;

  /** Every tx (any status) whose refs include `ref`, oldest first. */
  abstract allByRef(ref: string): Promise<ChainTxRecord[]>;

  /**
   * For each of `refs` that any tx names, the id of the newest such tx: latestByRef for a whole
   * batch (a store may answer it in one query, without loading the txs).
   */
  async latestIdsByRefs(refs: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const ref of refs) {
      const tx = await this.latestByRef(ref);
      if (tx) out.set(ref, tx.id);
    }
    return out;
  }

  /** Records the L1 block of the block that mined tx `id` (read after it is final). */
  abstract recordMinedL1Block(id: string, l1Block: bigint): Promise<void>;

  /**
   * The L1 blocks of the signer's last `limit` mined (or reverted) txs whose judged and mined L1
   * blocks are both known, oldest first: what MiningDelays is seeded from at boot.
   */
  abstract recentMinedL1Blocks(chainId: bigint, signer: string, limit: number): Promise<MinedL1Blocks[]>;

  abstract storedNextNonce(chainId: bigint, signer: string): Promise<bigint | null>;

  abstract saveNextNonce(chainId: bigint, signer: string, next: bigint): Promise<void>;
}
