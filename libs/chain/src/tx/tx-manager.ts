import { Logger } from '@nestjs/common';
import { JsonRpcApiProvider, toQuantity, type Provider, type TransactionReceipt, type Wallet } from 'ethers';
import { ChainErrorCode } from '../chain.error.js';
import { bumpFees, feeFields, quoteFees, quoteOf, type FeeQuote } from './fees.js';
import { broadcastRaw, nodeKnowsTx } from './raw-rpc.js';
import { signTx } from './tx-encoding.js';
import { ChainTxError, TxMaybeStoredError, classifyChainError, isAlreadyKnown } from './tx-error.js';
import {
  ChainTxStatus,
  type ChainTxRecord,
  type NewChainTx,
  type TxFinish,
  type TxStore,
} from './tx-store.port.js';

export interface TxManagerOptions {
  /** Blocks a receipt must be buried under (1 = the block that mined it) before a tx is final. */
  confirmations: number;
  /** Blocks without a receipt after which a tx is replaced at the same nonce with higher fees. */
  stuckBlocks: number;
  /** How much each replacement raises the fees, in percent (at least 10, geth's minimum). */
  feeBumpPercent: number;
  /** Replacements per tx; after that it is only re-broadcast. */
  maxReplacements: number;
  /** Cap on maxFeePerGas (or gasPrice), wei; 0 = none. */
  maxGasPrice: bigint;
  /** How often pending txs are checked. */
  pollIntervalMs: number;
}

export interface TxIntent {
  purpose: string;
  to: string;
  data: string;
  value?: bigint;
  /** Set by the caller from its simulation: the manager never estimates, so it never sends blind. */
  gasLimit: bigint;
  refs?: readonly string[];
  /** L1 block of the head the caller judged this send at, stored with the tx (NewChainTx). */
  judgedL1Block?: bigint;
}

export interface SendHooks {
  /**
   * Runs after the tx is stored and before it is broadcast, so whatever it records (e.g. tickets
   * moving to `submitted`) never lags behind a tx that may be mined. Its failure is logged; the
   * tx is broadcast anyway, since it is stored and would be re-broadcast after a restart.
   */
  beforeBroadcast?: (record: ChainTxRecord) => Promise<void>;
}

export interface TxResult {
  record: ChainTxRecord;
  /** The receipt of the mined variant; null for a dropped tx. */
  receipt: TransactionReceipt | null;
}

/** Observers for metrics; they must not throw. */
export interface TxManagerEvents {
  sent?(record: ChainTxRecord): void;
  replaced?(record: ChainTxRecord): void;
  /** `since`: when the tx was signed, or reopened after a reorganisation (what its latency counts from). */
  finished?(record: ChainTxRecord, receipt: TransactionReceipt | null, since: Date): void;
}

/**
 * Reopens a final tx a reorganisation changed (took it off the chain, or mined it elsewhere): calls `reopenRow` (TxStore.reopen, in the
 * caller's database transaction `trx`) and writes what the owner recorded of the tx's outcome back
 * in that same transaction. Returns the reopened row, or null when it changed meanwhile.
 */
export type FinalTxReopener = (
  record: ChainTxRecord,
  reopenRow: (trx?: unknown) => Promise<ChainTxRecord | null>,
) => Promise<ChainTxRecord | null>;

interface OpenTx {
  record: ChainTxRecord;
  waiters: { resolve: (r: TxResult) => void; reject: (e: unknown) => void }[];
  /** Consecutive checks that found the nonce used on chain but no receipt for any of our hashes. */
  nonceGoneChecks: number;
  /** Since when it is followed: signed (its row's creation), or reopened after a reorganisation. */
  since: Date;
  /**
   * A new tx whose first broadcast waits its turn (send): the node cannot know it yet, so a check
   * meanwhile must not send it ahead of the txs below it.
   */
  queuedForBroadcast?: boolean;
}

/** A final tx mined (or reverted) in a block that a reorganisation deeper than the confirmations may still replace. */
interface WatchedFinal {
  record: ChainTxRecord;
  blockNumber: bigint;
  /**
   * The block its receipt named when it went final; after a restart, its row's (null for a row
   * without one until its receipt is read again).
   */
  blockHash: string | null;
  /** Epoch ms after which it is no longer watched (FINAL_WATCH_MS after it went final). */
  until: number;
  /** Consecutive looks that found no receipt for it while its nonce was used on chain. */
  goneChecks: number;
  /**
   * Its block was on chain together with every other watched tx's at one poll: from then on, found
   * still there, it vouches for the anchored ones below it. A tx that went final since, or whose
   * block was learnt since, may sit on another chain than they did until such a poll.
   */
  anchored: boolean;
}

/** Why a final tx is reopened, for the log; and whether its signed bytes go out again. */
interface Reopening {
  msg: string;
  action: string;
  broadcast: boolean;
}

const NONCE_FREED: Reopening = {
  msg: 'a nonce of a final tx is free again on chain (a reorganisation deeper than the confirmations)',
  action: 'its signed tx reopened and broadcast again',
  broadcast: true,
};
const MINED_ELSEWHERE: Reopening = {
  msg: 'a final tx is now in another block (a reorganisation deeper than the confirmations)',
  action: 'reopened, to be settled from its new receipt once confirmed',
  broadcast: false,
};
const NONCE_TAKEN: Reopening = {
  msg: 'a final tx is gone from the chain and another tx holds its nonce (a reorganisation deeper than the confirmations)',
  action: 'reopened, to be recorded dropped unless a receipt shows up (its work is then done again)',
  broadcast: false,
};

/** Purpose of the zero-value self-transfer that fills a nonce gap below pending txs. */
export const NONCE_FILLER = 'nonce-filler';

/** Receipt look-ups of watched final txs sent at once (after a restart there may be hundreds). */
const RECEIPT_LOOKUPS = 20;

/** At a start, how many of the signer's latest txs are looked through for final ones to watch. */
const RESUMED_FINALS = 500;

/** Checks to wait (receipt indexing can lag the nonce) before calling a tx dropped. */
export const NONCE_GONE_CHECKS = 3;

/**
 * How long a tx that went final is still watched (the chain's nonce count, pending txs or not, and
 * its block): a reorganisation deeper than the confirmations shows as the count falling below the
 * floor, or as its block or receipt changed.
 */
export const FINAL_WATCH_MS = 10 * 60_000;

/**
 * The single submitter for one signer. Every send goes through one queue: nonce allocation,
 * signing, storing (with its refs) and broadcasting, in that order, so a stored tx is the only
 * kind that can ever be mined. A poll loop then follows each pending tx to its final status:
 * receipt + confirmations, replacement at the same nonce with bumped fees when stuck, re-broadcast
 * when the node forgot it (or never saw it: a crash between storing and broadcasting), dropped when
 * its nonce went to another tx. For FINAL_WATCH_MS after a tx goes final it also polls, pending
 * txs or not, the chain's count of mined txs and the blocks of the final txs (finalsOffChain), to
 * see a reorganisation deeper than the confirmations.
 *
 * Nonces: the next nonce is the lowest one at or above the chain's mined count that no pending tx
 * of ours holds, re-derived from the chain and the stored pending txs at start and after any
 * send error (so a tx refused for good gives its nonce back instead of leaving a gap). It assumes
 * it is the only sender for this key: the owner must hold a lease on the signer.
 */
export class TxManager {
  readonly address: string;
  private readonly logger = new Logger(TxManager.name);
  private readonly open = new Map<string, OpenTx>();
  private chainId = 0n;
  /** Nonces below this are used on chain (or by txs already final). */
  private nonceFloor = 0n;
  private needsReconcile = true;
  /** Consecutive polls (counted by tick) that found a gap below the floor: a nonce given back by a reorganisation. */
  private floorGapChecks = 0;
  /** Until when (epoch ms) polls go on with nothing pending, to see a final tx taken off the chain. */
  private watchFinalUntil = 0;
  /** One above the nonce of the last tx that went final: while watched, the floor never drops below it. */
  private finalFloor = 0n;
  /** Final txs with a receipt, by id, watched for FINAL_WATCH_MS for their block (watchFinalBlocks). */
  private readonly finals = new Map<string, WatchedFinal>();
  /** The chain's count of this signer's mined txs, as last read: pending txs at or above it wait for block space. */
  private minedSeen = 0n;
  /** Count reads issued, and the newest one whose answer set minedSeen: a slower, older answer never overwrites a newer one. */
  private countReadsIssued = 0;
  private countReadApplied = 0;
  /** The read refreshMined shares with every caller while it is in flight. */
  private minedRead?: Promise<void>;
  /** An insert failed without saying whether it committed: stored pending txs not followed are looked for. */
  private needsAdopt = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Broadcasts of new txs, one after the other in nonce order, behind the send queue. */
  private broadcasts: Promise<unknown> = Promise.resolve();
  private started = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private reopener?: FinalTxReopener;

  /**
   * @param provider the chain connection, or a function returning it when it may not exist yet at
   *   construction (it is first needed by `start()`).
   */
  constructor(
    private readonly wallet: Wallet,
    private readonly providerSource: Provider | (() => Provider),
    private readonly store: TxStore,
    private readonly options: TxManagerOptions,
    private readonly events: TxManagerEvents = {},
  ) {
    this.address = wallet.address.toLowerCase();
  }

  /**
   * Who reopens a final tx a reorganisation took off the chain (the service whose records its
   * outcome decided: they are put back in the same database transaction). Without one, only the
   * tx's row is reopened.
   */
  reopenWith(reopener: FinalTxReopener): void {
    this.reopener = reopener;
  }

  private get provider(): Provider {
    return typeof this.providerSource === 'function' ? this.providerSource() : this.providerSource;
  }

  /**
   * Loads the signer's pending txs, re-broadcasts those the node does not know, reconciles the
   * nonce and starts following them. Throws (retryable) when the chain does not answer.
   */
  async start(): Promise<void> {
    if (this.started) return;
    try {
      this.chainId = (await this.provider.getNetwork()).chainId;
      for (const record of await this.store.listOpen(this.chainId, this.address)) {
        this.open.set(record.id, { record, waiters: [], nonceGoneChecks: 0, since: record.createdAt });
      }
      this.needsAdopt = false;
      await this.resumeFinalWatch();
      await this.reconcileNonce();
    } catch (err) {
      this.open.clear();
      throw classifyChainError(err);
    }
    this.started = true;
    this.stopped = false;
    this.logger.log({ msg: 'tx manager started', signer: this.address, pending: this.open.size });
    this.ticking = this.tick();
    await this.ticking;
    this.schedule();
  }

  /** Stops following txs; waiters are rejected (their txs stay stored and are resumed at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    for (const o of this.open.values()) {
      for (const w of o.waiters)
        w.reject(new ChainTxError(ChainErrorCode.CHAIN_UNAVAILABLE, 'tx manager stopped'));
      o.waiters = [];
    }
    this.open.clear();
    this.finals.clear();
    this.started = false;
  }

  get chain(): bigint {
    return this.chainId;
  }

  /** Whether txs can be sent: started, and not stopped since (a lost signer lease stops it). */
  get sending(): boolean {
    return this.started && !this.stopped;
  }

  /** Pending txs, lowest nonce first. */
  pending(): ChainTxRecord[] {
    return [...this.open.values()].map((o) => o.record).sort((a, b) => (a.nonce < b.nonce ? -1 : 1));
  }

  /**
   * Pending txs not mined as of the last read of the chain's count (each poll reads it): those
   * still waiting for block space. A tx mined but not yet final is not among them.
   */
  unmined(): ChainTxRecord[] {
    return [...this.open.values()].map((o) => o.record).filter((r) => r.nonce >= this.minedSeen);
  }

  /**
   * Reads the mined count now rather than at the next poll, one read shared by every caller
   * meanwhile: for a caller waiting for `unmined()` to shrink (a block just took some of these
   * txs), which the poll would show only up to an interval and its receipt reads later.
   */
  refreshMined(): Promise<void> {
    this.minedRead ??= this.txCount('latest')
      .then(() => undefined)
      .finally(() => (this.minedRead = undefined));
    return this.minedRead;
  }

  /** The nonce the next send would use. */
  nextNonce(): bigint {
    let n = this.nonceFloor;
    const held = new Set([...this.open.values()].map((o) => o.record.nonce));
    while (held.has(n)) n++;
    return n;
  }

  /**
   * Signs, stores and broadcasts one tx; resolves with the stored record once it was broadcast (or
   * tried). Sends run one at a time (nonces), so the reads no nonce depends on (fees, the block it
   * is sent at) are made before its turn, alongside the sends ahead of it, and the broadcast after
   * it, in nonce order behind the broadcasts before it: each send holds the queue for its sign and
   * insert only. A broadcast refused for good while a higher nonce is already stored leaves a gap,
   * which the next send takes (nextNonce) or the poll fills (fillGap), as when a re-broadcast is
   * refused.
   */
  send(intent: TxIntent, hooks: SendHooks = {}): Promise<ChainTxRecord> {
    const quoted = this.quote();
    // Awaited in its turn, which may come after the reads failed.
    quoted.catch(() => undefined);
    return this.enqueue(() => this.sendNow(intent, hooks, quoted)).then((s) => s.delivered);
  }

  /** The fees a new tx offers, and the block it is sent at (no later than its broadcast). */
  private quote(): Promise<[FeeQuote, number]> {
    return Promise.all([quoteFees(this.provider, this.options.maxGasPrice), this.provider.getBlockNumber()]);
  }

  /** Runs `step` after every send (and queued step) before it: nonces and the followed set change one at a time. */
  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves when the tx is final (mined, reverted or dropped). Works across restarts: a tx
   * already final in the store resolves at once with its receipt fetched again.
   */
  async wait(id: string): Promise<TxResult> {
    const open = this.open.get(id);
    if (open) return new Promise((resolve, reject) => open.waiters.push({ resolve, reject }));
    const record = await this.store.get(id);
    if (!record) throw new ChainTxError(ChainErrorCode.INVALID_TRANSACTION, `no stored tx ${id}`);
    if (record.status === ChainTxStatus.PENDING) {
      // Only possible for a tx of another signer (the key changed) or before start().
      throw new ChainTxError(
        ChainErrorCode.INVALID_TRANSACTION,
        `tx ${id} is pending but not followed by this signer (${record.signer} vs ${this.address})`,
      );
    }
    const receipt = record.minedHash ? await this.provider.getTransactionReceipt(record.minedHash) : null;
    return { record, receipt };
  }

  /**
   * In the send queue: signs and stores the tx and follows it, then starts its hook and queues its
   * broadcast (`delivered`, wrapped so that the queue does not wait for it).
   */
  private async sendNow(
    intent: TxIntent,
    hooks: SendHooks,
    quoted = this.quote(),
  ): Promise<{ delivered: Promise<ChainTxRecord> }> {
    if (!this.started || this.stopped) {
      throw new ChainTxError(ChainErrorCode.CHAIN_UNAVAILABLE, 'tx manager is not running');
    }
    let record: ChainTxRecord;
    let raw: string;
    try {
      if (this.needsAdopt) await this.adoptStored();
      if (this.needsReconcile) await this.reconcileNonce();
      // Read before this turn: the block is at most the one it is broadcast in (a stuck check
      // counts from it a little early, a lost receipt's search starts a little earlier).
      const [fees, sentBlock] = await quoted;
      const nonce = this.nextNonce();
      const signed = this.sign(
        { to: intent.to, data: intent.data, value: intent.value ?? 0n, gasLimit: intent.gasLimit },
        nonce,
        fees,
      );
      raw = signed.raw;
      record = await this.insert({
        chainId: this.chainId,
        signer: this.address,
        nonce,
        purpose: intent.purpose,
        to: intent.to.toLowerCase(),
        data: intent.data,
        value: intent.value ?? 0n,
        gasLimit: intent.gasLimit,
        refs: [...(intent.refs ?? [])],
        hash: signed.hash,
        rawTx: signed.raw,
        sentBlock: BigInt(sentBlock),
        judgedL1Block: intent.judgedL1Block,
        ...feeFields(fees),
      });
    } catch (err) {
      this.needsReconcile = true;
      throw classifyChainError(err);
    }
    // This process's clock, as the latency metric's end is (the row's creation time is the database's).
    const open: OpenTx = {
      record,
      waiters: [],
      nonceGoneChecks: 0,
      since: new Date(),
      queuedForBroadcast: true,
    };
    this.open.set(record.id, open);
    // The hook runs beside the broadcasts ahead; only this tx's own broadcast waits for it.
    const hooked = hooks.beforeBroadcast?.(record).catch((err: unknown) =>
      this.logger.error({
        msg: 'beforeBroadcast hook failed',
        txId: record.id,
        error: (err as Error).message,
      }),
    );
    const delivered = this.broadcasts.then(async () => {
      await hooked;
      await this.deliver(open, raw);
      return record;
    });
    this.broadcasts = delivered.catch(() => undefined);
    return { delivered };
  }

  /**
   * A new tx's first broadcast; its refusal is judged as any broadcast's. Never rejects: the tx is
   * stored and followed, so a judgement that could not be recorded is made again by the poll.
   */
  private async deliver(open: OpenTx, raw: string): Promise<void> {
    const { record } = open;
    try {
      await broadcastRaw(this.provider, raw);
      this.logger.log({
        msg: 'tx sent',
        txId: record.id,
        txHash: record.hashes[0],
        nonce: record.nonce.toString(),
        purpose: record.purpose,
      });
    } catch (err) {
      await this.onBroadcastError(open, err).catch((e: unknown) => {
        const error = classifyChainError(e);
        this.logger.warn({ msg: 'broadcast refusal not recorded', txId: record.id, error: error.message });
      });
    }
    open.queuedForBroadcast = false;
    this.events.sent?.(record);
  }

  /**
   * Stores a signed tx. An insert that throws may have committed anyway (its answer lost with the
   * connection): the tx is looked for by its signed hash and, if stored, followed as if the insert
   * had answered. If it cannot be found the send fails with TxMaybeStoredError (a commit may land
   * late, or the look-up failed too) and the stored pending txs are looked for again before the
   * next send and poll, so one stored late is still followed and never blocks its nonce.
   */
  private async insert(tx: NewChainTx): Promise<ChainTxRecord> {
    try {
      return await this.store.insert(tx);
    } catch (err) {
      const error = classifyChainError(err);
      const found = await this.store.findSigned(tx.chainId, tx.signer, tx.nonce, tx.hash).catch(() => null);
      if (found && found.status === ChainTxStatus.PENDING) {
        this.logger.warn({
          msg: 'tx stored though its insert failed: followed',
          txId: found.id,
          error: error.message,
        });
        return found;
      }
      this.needsAdopt = true;
      throw new TxMaybeStoredError(error.code, `tx may have been stored: ${error.message}`, undefined, {
        cause: err,
      });
    }
  }

  /** Follows the stored pending txs of this signer that it does not follow yet (see `insert`). */
  private async adoptStored(): Promise<void> {
    for (const record of await this.store.listOpen(this.chainId, this.address)) {
      if (this.open.has(record.id)) continue;
      this.open.set(record.id, { record, waiters: [], nonceGoneChecks: 0, since: record.createdAt });
      // A final tx reopened by a commit whose answer was lost: followed again, no longer watched.
      this.finals.delete(record.id);
      this.needsReconcile = true;
      this.logger.warn({
        msg: 'stored tx followed after a failed insert',
        txId: record.id,
        nonce: record.nonce.toString(),
      });
    }
    this.needsAdopt = false;
  }

  private async onBroadcastError(open: OpenTx, err: unknown): Promise<void> {
    if (isAlreadyKnown(err)) return;
    this.needsReconcile = true;
    const error = classifyChainError(err);
    this.logger.warn({
      msg: 'broadcast failed',
      txId: open.record.id,
      code: error.code,
      error: error.message,
    });
    switch (error.code) {
      case ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS:
      case ChainErrorCode.INVALID_TRANSACTION:
        // Refused for good and never in a mempool: the nonce is free again.
        await this.finish(open, { status: ChainTxStatus.DROPPED, errorCode: error.code }, null, false);
        return;
      case ChainErrorCode.NONCE_TOO_LOW:
        // A tx we do not know took this nonce: ours can never be mined.
        await this.finish(open, { status: ChainTxStatus.DROPPED, errorCode: error.code }, null, true);
        return;
      default:
        // Unknown delivery (network) or fee trouble: the poll loop re-broadcasts or replaces it.
        return;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
  }

  private async tick(): Promise<void> {
    // Through the send queue, so a send storing its tx right now is never followed twice.
    if (this.needsAdopt) await this.enqueue(() => this.adoptStored()).catch(() => undefined);
    if (this.open.size === 0 && Date.now() >= this.watchFinalUntil) return;
    try {
      if (this.open.size === 0) {
        await this.watchFinal();
        return await this.watchFinalBlocks();
      }
      const head = BigInt(await this.provider.getBlockNumber());
      const mined = await this.txCount('latest');
      const sorted = [...this.open.values()].sort((a, b) => (a.record.nonce < b.record.nonce ? -1 : 1));
      // Receipts of every tx in flight at once: many txs of one signer may be pending together.
      const receipts = await Promise.all(
        sorted.map((o) => this.findReceipt(o.record.hashes).catch((err: unknown) => err as Error)),
      );
      for (const [i, open] of sorted.entries()) {
        if (this.stopped) return;
        await this.check(open, head, mined, receipts[i]).catch((err: unknown) => {
          const error = classifyChainError(err);
          this.logger.warn({
            msg: 'tx check failed',
            txId: open.record.id,
            code: error.code,
            error: error.message,
          });
        });
      }
      const gap = this.gapBelowPending(mined);
      this.floorGapChecks = gap !== null && gap < this.nonceFloor ? this.floorGapChecks + 1 : 0;
      if (gap !== null) await this.fillGap(mined);
      await this.watchFinalBlocks();
    } catch (err) {
      const error = classifyChainError(err);
      this.logger.warn({ msg: 'tx poll failed', code: error.code, error: error.message });
    }
  }

  /**
   * Nothing pending, a tx final not long ago: a count of mined txs below the floor means a
   * reorganisation deeper than the confirmations took a final tx away with no tx of ours above it
   * to show the gap. Seen in NONCE_GONE_CHECKS polls in a row, the stored tx at that nonce is
   * broadcast again (its tickets are recorded paid). Never a filler here: nothing waits above it,
   * and a nonce we stored nothing at is not ours to take.
   */
  private async watchFinal(): Promise<void> {
    const mined = await this.txCount('latest');
    this.floorGapChecks = mined < this.nonceFloor ? this.floorGapChecks + 1 : 0;
    if (this.floorGapChecks < NONCE_GONE_CHECKS) return;
    await this.enqueue(async () => {
      // A send meanwhile holds the nonce (or one above it): the pending path takes over.
      if (this.open.size > 0) return;
      this.floorGapChecks = 0;
      const taken = await this.store.liveAtNonce(this.chainId, this.address, mined);
      if (taken) await this.reopenFinal(taken, NONCE_FREED);
    });
  }

  /**
   * What the floor cannot show: a final tx mined again in another block of the new chain, where its
   * outcome may differ, or gone while another tx of this key took its nonce there. Only the txs
   * whose block may have changed (finalsOffChain) have their receipt read: in another block, or
   * saying other than the row, the tx is reopened and settled again from it once confirmed; none
   * while its nonce is used, seen in NONCE_GONE_CHECKS looks in a row, it is reopened for the
   * pending checks to record it dropped (a receipt found meanwhile still settles it). None while
   * its nonce is free is the floor's case (watchFinal, fillGap).
   */
  private async watchFinalBlocks(): Promise<void> {
    const now = Date.now();
    for (const [id, f] of this.finals) if (f.until <= now) this.finals.delete(id);
    if (this.finals.size === 0) return;
    const suspects = await this.finalsOffChain();
    const receipts = await this.receiptsOf(suspects);
    for (const [i, f] of suspects.entries()) {
      // A failed look is no evidence either way.
      if (receipts[i] instanceof Error) continue;
      const how = this.judgeFinal(f, receipts[i], this.minedSeen);
      if (!how) continue;
      await this.enqueue(async () => {
        // Stopped, followed again already (the floor's path, an adopted reopen), or no longer watched.
        if (this.stopped || this.open.has(f.record.id) || this.finals.get(f.record.id) !== f) return;
        await this.reopenFinal(f.record, how);
      });
    }
  }

  /**
   * The watched txs whose block is no longer the chain's. Heights are read from the newest down: a
   * tx whose block is still there is fine, and an anchored one vouches for every anchored one below
   * it (a block names its parent), so with no reorganisation this is one call, or a few when txs
   * went final since. A height past the node's head (a lagging node) is no evidence: skipped, and
   * nothing is anchored at that poll. Txs resumed after a restart from a row without its block's
   * hash are among them until their receipt has been read.
   */
  private async finalsOffChain(): Promise<WatchedFinal[]> {
    const suspects: WatchedFinal[] = [];
    const onChain: WatchedFinal[] = [];
    const byHeight = new Map<bigint, WatchedFinal[]>();
    for (const f of this.finals.values()) {
      if (f.blockHash === null) suspects.push(f);
      else byHeight.set(f.blockNumber, [...(byHeight.get(f.blockNumber) ?? []), f]);
    }
    let vouched = false;
    let complete = true;
    for (const height of [...byHeight.keys()].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))) {
      const at = byHeight.get(height)!;
      if (vouched && at.every((f) => f.anchored)) {
        onChain.push(...at);
        continue;
      }
      const hash = await this.blockHashAt(height);
      if (hash === null) {
        complete = false;
        continue;
      }
      for (const f of at) (f.blockHash === hash ? onChain : suspects).push(f);
      if (at.some((f) => f.anchored && f.blockHash === hash)) vouched = true;
    }
    // Their receipts are where they were: their looks in a row start again. A tx off chain vouches
    // for nothing until found on one chain with the others again (its reopen may fail and be retried).
    for (const f of onChain) f.goneChecks = 0;
    for (const f of suspects) f.anchored = false;
    // Every block found was on one chain at once: each now vouches for those below it (those off it
    // stay unanchored, being settled again).
    if (complete) for (const f of onChain) f.anchored = true;
    return suspects;
  }

  /** The receipts of `watched` (null: none; an Error: the look failed), a few look-ups at a time. */
  private async receiptsOf(watched: readonly WatchedFinal[]): Promise<(TransactionReceipt | null | Error)[]> {
    const out: (TransactionReceipt | null | Error)[] = [];
    for (let i = 0; i < watched.length; i += RECEIPT_LOOKUPS) {
      const chunk = watched.slice(i, i + RECEIPT_LOOKUPS);
      out.push(
        ...(await Promise.all(
          chunk.map((f) =>
            this.findReceipt(f.record.hashes).catch((err: unknown) => classifyChainError(err)),
          ),
        )),
      );
    }
    return out;
  }

  /** What a watched final tx's receipt (or its absence, with `mined` txs of the key on chain) calls for. */
  private judgeFinal(
    f: WatchedFinal,
    receipt: TransactionReceipt | null,
    mined: bigint,
  ): Reopening | undefined {
    if (!receipt) {
      if (mined <= f.record.nonce) {
        f.goneChecks = 0;
        return undefined;
      }
      return ++f.goneChecks >= NONCE_GONE_CHECKS ? NONCE_TAKEN : undefined;
    }
    f.goneChecks = 0;
    if (f.blockHash !== null) return receipt.blockHash === f.blockHash ? undefined : MINED_ELSEWHERE;
    // Resumed after a restart from a row without its block's hash: the receipt must still say what
    // the row recorded. A copy mined at the same height with other logs would almost surely use other gas.
    const same =
      receipt.hash === f.record.minedHash &&
      BigInt(receipt.blockNumber) === f.blockNumber &&
      // A row a correction wrote may lack its gas used.
      (f.record.gasUsed === null || receipt.gasUsed === f.record.gasUsed) &&
      (receipt.status === 1) === (f.record.status === ChainTxStatus.MINED);
    if (!same) return MINED_ELSEWHERE;
    f.blockHash = receipt.blockHash;
    return undefined;
  }

  /**
   * The lowest nonce at or above the mined count that no pending tx holds while a higher one does:
   * the txs above it can never be mined. It appears when a tx is refused for good after txs with
   * higher nonces were sent (their nonces are not re-signed: they are stored and may be mined), or
   * when a reorganisation deeper than the confirmations takes a final tx of ours off the chain.
   */
  private gapBelowPending(mined: bigint): bigint | null {
    const held = new Set([...this.open.values()].map((o) => o.record.nonce));
    const top = [...held].reduce((a, b) => (b > a ? b : a), -1n);
    for (let n = mined; n < top; n++) if (!held.has(n)) return n;
    return null;
  }

  /**
   * Fills a nonce gap with a zero-value transfer to ourselves, stored before broadcast like any tx,
   * through the send queue (so a real send that fills the gap first makes this a no-op). A gap
   * below the floor is a nonce the chain gave back: a reorganisation deeper than the confirmations
   * took a final tx off the chain. Believed once seen in NONCE_GONE_CHECKS polls in a row (one
   * lagging node's count is not enough). The stored tx that took the nonce is broadcast again: its
   * tickets are recorded paid, so the chain gets that payment back, and the txs above it can be
   * mined. With no stored tx there, the floor comes down and a filler takes the nonce.
   */
  private fillGap(mined: bigint): Promise<unknown> {
    return this.enqueue(async () => {
      const gap = this.gapBelowPending(mined);
      if (gap === null) return;
      if (gap < this.nonceFloor) {
        if (this.floorGapChecks < NONCE_GONE_CHECKS) return;
        this.floorGapChecks = 0;
        const taken = await this.store.liveAtNonce(this.chainId, this.address, gap);
        if (taken) return this.reopenFinal(taken, NONCE_FREED);
        this.logger.error({
          msg: NONCE_FREED.msg,
          nonce: gap.toString(),
          txId: null,
          action: 'filled',
        });
        this.nonceFloor = gap;
      }
      if (this.nextNonce() !== gap) return;
      this.logger.warn({ msg: 'filling a nonce gap below pending txs', nonce: gap.toString() });
      const filler = await this.sendNow(
        { purpose: NONCE_FILLER, to: this.address, data: '0x', gasLimit: 21_000n },
        {},
      );
      await filler.delivered;
    });
  }

  /**
   * A final tx a reorganisation changed: reopened (pending again, and what its outcome decided
   * taken back, see reopenWith), then followed as any pending tx, its signed bytes sent again
   * unchanged when `how` says so, so that its new outcome (mined, reverted, or dropped under another
   * tx at its nonce) is the one recorded. Not reopened (database down, row changed): nothing is
   * sent; the next polls find the change again and retry.
   */
  private async reopenFinal(taken: ChainTxRecord, how: Reopening): Promise<void> {
    if (this.stopped) return;
    this.logger.error({
      msg: how.msg,
      nonce: taken.nonce.toString(),
      txId: taken.id,
      action: how.action,
    });
    let record: ChainTxRecord | null;
    let head: bigint;
    try {
      head = BigInt(await this.provider.getBlockNumber());
      const reopenRow = (trx?: unknown) => this.store.reopen(taken.id, taken, trx);
      record = this.reopener ? await this.reopener(taken, reopenRow) : await reopenRow();
    } catch (err) {
      // Reopened all the same if only the commit's answer was lost: looked for among stored
      // pending txs. Otherwise tried again at the next polls, watched for as long as that takes.
      this.needsAdopt = true;
      this.watchFinalUntil = Math.max(this.watchFinalUntil, Date.now() + FINAL_WATCH_MS);
      const watched = this.finals.get(taken.id);
      if (watched) watched.until = Math.max(watched.until, Date.now() + FINAL_WATCH_MS);
      this.logger.warn({
        msg: 'final tx not reopened',
        txId: taken.id,
        error: classifyChainError(err).message,
      });
      return;
    }
    if (!record) {
      // Changed since it was read (reopened by an earlier try, say): stored pending txs are looked for.
      this.finals.delete(taken.id);
      this.needsAdopt = true;
      this.logger.warn({ msg: 'final tx not reopened: its row changed meanwhile', txId: taken.id });
      return;
    }
    // Followed before anything else can ask for it (waiters of its settlement find it open); its
    // stuck-tx clock starts now (in memory: its stored sent block is where its logs are searched from).
    const open: OpenTx = {
      record: { ...record, sentBlock: head },
      waiters: [],
      nonceGoneChecks: 0,
      since: new Date(),
    };
    this.open.set(record.id, open);
    this.finals.delete(record.id);
    if (!how.broadcast) return;
    await broadcastRaw(this.provider, record.rawTx).catch((err: unknown) => this.onBroadcastError(open, err));
  }

  private async check(
    open: OpenTx,
    head: bigint,
    minedCount: bigint,
    found: TransactionReceipt | null | Error,
  ): Promise<void> {
    const { record } = open;
    // Finished meanwhile (e.g. refused for good by its own broadcast): never re-broadcast it.
    if (this.open.get(record.id) !== open) return;
    if (found instanceof Error) throw found;
    const receipt = found;
    if (receipt) {
      open.nonceGoneChecks = 0;
      if (this.confirmed(receipt, head)) {
        const status = receipt.status === 1 ? ChainTxStatus.MINED : ChainTxStatus.REVERTED;
        await this.finish(
          open,
          {
            status,
            minedHash: receipt.hash,
            blockNumber: BigInt(receipt.blockNumber),
            blockHash: receipt.blockHash,
            gasUsed: receipt.gasUsed,
            effectiveGasPrice: receipt.gasPrice,
          },
          receipt,
          true,
        );
      }
      return;
    }
    if (minedCount > record.nonce) {
      if (++open.nonceGoneChecks >= NONCE_GONE_CHECKS) {
        await this.finish(
          open,
          { status: ChainTxStatus.DROPPED, errorCode: ChainErrorCode.TX_DROPPED },
          null,
          true,
        );
      }
      return;
    }
    open.nonceGoneChecks = 0;
    if (open.queuedForBroadcast) return;
    const current = record.hashes[record.hashes.length - 1];
    if (!(await nodeKnowsTx(this.provider, current))) {
      await this.rebroadcast(open, head);
      return;
    }
    if (head - record.sentBlock >= BigInt(this.options.stuckBlocks)) await this.replace(open, head);
  }

  /** The node lost the tx (restart, eviction) or never got it (crash before broadcasting). */
  private async rebroadcast(open: OpenTx, head: bigint): Promise<void> {
    try {
      await broadcastRaw(this.provider, open.record.rawTx);
      this.logger.log({ msg: 'tx re-broadcast', txId: open.record.id, nonce: open.record.nonce.toString() });
    } catch (err) {
      if (isAlreadyKnown(err)) return;
      const error = classifyChainError(err);
      switch (error.code) {
        case ChainErrorCode.FEE_TOO_LOW:
        case ChainErrorCode.REPLACEMENT_UNDERPRICED:
          await this.replace(open, head, true);
          return;
        case ChainErrorCode.SIGNER_INSUFFICIENT_FUNDS:
        case ChainErrorCode.INVALID_TRANSACTION:
          this.needsReconcile = true;
          await this.finish(open, { status: ChainTxStatus.DROPPED, errorCode: error.code }, null, false);
          return;
        default:
          this.logger.warn({
            msg: 're-broadcast failed',
            txId: open.record.id,
            code: error.code,
            error: error.message,
          });
      }
    }
  }

  private async replace(open: OpenTx, head: bigint, force = false): Promise<void> {
    const { record } = open;
    if (!force && record.replacements >= this.options.maxReplacements) {
      await this.rebroadcast(open, head);
      return;
    }
    const market = await quoteFees(this.provider, this.options.maxGasPrice);
    const fees = bumpFees(quoteOf(record), market, this.options.feeBumpPercent, this.options.maxGasPrice);
    if (!fees) {
      this.logger.warn({ msg: 'stuck tx not replaced: the gas price cap leaves no room', txId: record.id });
      open.record = { ...record, sentBlock: head };
      return;
    }
    const signed = this.sign(
      { to: record.to, data: record.data, value: record.value, gasLimit: record.gasLimit },
      record.nonce,
      fees,
    );
    open.record = await this.store.addReplacement(record.id, {
      hash: signed.hash,
      rawTx: signed.raw,
      sentBlock: head,
      ...feeFields(fees),
    });
    this.events.replaced?.(open.record);
    try {
      await broadcastRaw(this.provider, signed.raw);
      this.logger.log({
        msg: 'stuck tx replaced',
        txId: record.id,
        nonce: record.nonce.toString(),
        txHash: signed.hash,
        replacements: open.record.replacements,
      });
    } catch (err) {
      if (isAlreadyKnown(err)) return;
      const error = classifyChainError(err);
      this.logger.warn({
        msg: 'replacement broadcast failed',
        txId: record.id,
        code: error.code,
        error: error.message,
      });
    }
  }

  private async finish(
    open: OpenTx,
    outcome: TxFinish,
    receipt: TransactionReceipt | null,
    nonceConsumed: boolean,
  ): Promise<void> {
    const record = await this.store.finish(open.record.id, outcome);
    this.open.delete(record.id);
    if (nonceConsumed) this.followFinal(record.nonce, Date.now());
    if (receipt) this.watchBlock(record, BigInt(receipt.blockNumber), receipt.blockHash, Date.now());
    this.logger.log({
      msg: 'tx final',
      txId: record.id,
      status: record.status,
      txHash: record.minedHash,
      nonce: record.nonce.toString(),
      code: record.errorCode,
    });
    this.events.finished?.(record, receipt, open.since);
    for (const w of open.waiters) w.resolve({ record, receipt });
  }

  /** Raises the floor past a final tx's `nonce` and watches it for FINAL_WATCH_MS from `finishedAt`. */
  private followFinal(nonce: bigint, finishedAt: number): void {
    if (nonce + 1n > this.finalFloor) this.finalFloor = nonce + 1n;
    if (this.finalFloor > this.nonceFloor) this.nonceFloor = this.finalFloor;
    const until = finishedAt + FINAL_WATCH_MS;
    if (until > this.watchFinalUntil) this.watchFinalUntil = until;
  }

  /**
   * At start, the signer's txs that went final less than FINAL_WATCH_MS ago (among its latest
   * RESUMED_FINALS) are watched for what is left of it, as if this process had finished them: after
   * a restart, or a takeover of the signer, a reorganisation deeper than the confirmations would
   * otherwise leave the chain's lower count as the floor, and the next tx would take a final tx's
   * nonce, or change its outcome, while its tickets stay recorded paid.
   */
  private async resumeFinalWatch(): Promise<void> {
    const latest = await this.store.latestLive(this.chainId, this.address, RESUMED_FINALS);
    const watched = latest.filter(
      (r) =>
        (r.status === ChainTxStatus.MINED || r.status === ChainTxStatus.REVERTED) &&
        r.finishedAt !== null &&
        r.finishedAt.getTime() + FINAL_WATCH_MS > Date.now(),
    );
    for (const r of watched) {
      this.followFinal(r.nonce, r.finishedAt!.getTime());
      // A row without its block's hash (older, or corrected from logs): its receipt, read at the
      // next looks, must say what the row does.
      if (r.blockNumber !== null) this.watchBlock(r, r.blockNumber, r.blockHash, r.finishedAt!.getTime());
    }
  }

  /** Watches a final tx's block for FINAL_WATCH_MS from `finishedAt` (watchFinalBlocks). */
  private watchBlock(
    record: ChainTxRecord,
    blockNumber: bigint,
    blockHash: string | null,
    finishedAt: number,
  ): void {
    this.finals.set(record.id, {
      record,
      blockNumber,
      blockHash,
      until: finishedAt + FINAL_WATCH_MS,
      goneChecks: 0,
      anchored: false,
    });
  }

  /** The hash of the chain's block at `n` as the node has it now (null past its head), past the request cache. */
  private async blockHashAt(n: bigint): Promise<string | null> {
    if (this.provider instanceof JsonRpcApiProvider) {
      const block = (await this.provider.send('eth_getBlockByNumber', [toQuantity(n), false])) as {
        hash: string;
      } | null;
      return block?.hash ?? null;
    }
    return (await this.provider.getBlock(n))?.hash ?? null;
  }

  /**
   * Re-derives the nonce from the chain: mined count, or the pending count when we hold no pending
   * tx ourselves (txs of this key sent elsewhere are then respected). Stored for operators.
   */
  private async reconcileNonce(): Promise<void> {
    const [mined, pending, stored] = await Promise.all([
      this.txCount('latest'),
      this.txCount('pending'),
      this.store.storedNextNonce(this.chainId, this.address),
    ]);
    const fromChain = this.open.size === 0 && pending > mined ? pending : mined;
    // A count below a final tx's nonce is a lagging node or a reorganisation, never a free nonce.
    const final = Date.now() < this.watchFinalUntil ? this.finalFloor : 0n;
    this.nonceFloor = final > fromChain ? final : fromChain;
    const next = this.nextNonce();
    if (stored !== null && stored !== next) {
      this.logger.warn({
        msg: 'stored nonce differs from the chain; using the chain',
        stored: stored.toString(),
        next: next.toString(),
      });
    }
    await this.store.saveNextNonce(this.chainId, this.address, next);
    this.needsReconcile = false;
  }

  /** Signs with the fields encoded once (tx-encoding.ts); the hash is the Keccak of the raw bytes. */
  private sign(
    tx: { to: string; data: string; value: bigint; gasLimit: bigint },
    nonce: bigint,
    fees: FeeQuote,
  ): { raw: string; hash: string } {
    return signTx(this.wallet.signingKey, { ...tx, chainId: this.chainId, nonce, fees });
  }

  /** Whether `receipt` has the confirmations a tx needs to be final, at head block `head`. */
  confirmed(receipt: TransactionReceipt, head: bigint): boolean {
    return this.confirmedAt(BigInt(receipt.blockNumber), head);
  }

  /** Whether a block is as final as this manager makes its own txs (its confirmations). */
  confirmedAt(blockNumber: bigint, head: bigint): boolean {
    return head - blockNumber + 1n >= BigInt(this.options.confirmations);
  }

  /** The receipt of whichever of `hashes` (a tx's signed variants) the node has, newest first; null if none. */
  async findReceipt(hashes: readonly string[]): Promise<TransactionReceipt | null> {
    for (let i = hashes.length - 1; i >= 0; i--) {
      const receipt = await this.provider.getTransactionReceipt(hashes[i]);
      if (receipt) return receipt;
    }
    return null;
  }

  /** Read past the provider's request cache: a stale count would hand out a used nonce. */
  private async txCount(tag: 'latest' | 'pending'): Promise<bigint> {
    const read = ++this.countReadsIssued;
    const count =
      this.provider instanceof JsonRpcApiProvider
        ? BigInt((await this.provider.send('eth_getTransactionCount', [this.address, tag])) as string)
        : BigInt(await this.provider.getTransactionCount(this.address, tag));
    if (tag === 'latest' && read > this.countReadApplied) {
      this.countReadApplied = read;
      this.minedSeen = count;
    }
    return count;
  }
}
