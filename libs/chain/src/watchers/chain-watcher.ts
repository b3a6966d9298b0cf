import { Logger } from '@nestjs/common';
import { getBigInt, ZeroHash, type JsonRpcApiProvider } from 'ethers';
import { Subject } from 'rxjs';
import type { SenderInfo } from '#app/ticket';
import {
  bondingManagerAt,
  roundsManagerAt,
  senderInfoOf,
  ticketBrokerAt,
  type BondingManagerContract,
  type RoundsManagerContract,
  type TicketBrokerContract,
} from '../bindings.js';
import type { ChainHead, L1BlockSource, RoundFacts } from '../chain-facts.js';
import { discoverAddresses, type ProtocolAddresses } from '../discover.js';
import { walkBlockRange } from '../log-range.js';
import { nextRoundStartBlock, roundFacts } from '../round-end.js';
import { readHeader, type BlockHeader } from './block-header.js';
import {
  CHAIN_EVENT_KINDS,
  compareEvents,
  decodeChainLog,
  watchedTopics,
  type ChainEvent,
  type ChainEventKind,
} from './chain-events.js';
import { GasPriceMonitor, type GasPriceBounds } from './gas-price-monitor.js';
import type { RpcEndpoint } from './rpc-endpoint.js';
import { SenderCache, type SenderStateReader } from './sender-cache.js';
import { WatcherError, WatcherErrorCode } from './watcher.error.js';

export interface ChainWatcherOptions {
  controllerAddress: string;
  /** Where the L1 block number comes from: the block (L1 chains) or `l1BlockNumber` (Arbitrum). */
  l1BlockSource: L1BlockSource;
  /** How often the head is polled (go-livepeer `-blockPollingInterval`, 5 s). */
  pollIntervalMs: number;
  gas: GasPriceBounds;
  /** Recipients whose claimed reserve and active status are tracked (lowercase or checksummed). */
  claimants: readonly string[];
  /** Most blocks per `eth_getLogs` request while catching up (ETH_LOGS_MAX_BLOCKS; split further if refused). */
  logsMaxBlocks: number;
  /** A longer gap (e.g. after a long outage) is not replayed from logs: the cache is re-read instead. */
  maxBackfillBlocks: number;
  /** Consecutive failed polls after which the RPC connection is dropped and reopened. */
  reconnectAfterFailures?: number;
}

export type ResyncReason = 'bootstrap' | 'reorg' | 'gap';

/** What one poll changed. */
export interface ChainUpdate {
  head: ChainHead;
  /** Cached senders whose TicketBroker state changed. */
  senders: ReadonlySet<string>;
  /**
   * Every sender's max float may have moved: a new round (claims reset, validity), a pool size
   * or recipient-activity change, or a resync.
   */
  all: boolean;
  newRound: boolean;
  resync?: ResyncReason;
  /** Events applied in this poll. */
  events: number;
}

export interface WatcherStatus {
  synced: boolean;
  /** The block up to which events have been applied. */
  syncedBlock?: bigint;
  /** The newest head the RPC reported. */
  latestSeenBlock?: bigint;
  /** When the synced block last advanced (ms since the epoch). */
  lastAdvanceAt?: number;
  consecutiveFailures: number;
  totalFailures: number;
  lastError?: string;
  resyncs: Readonly<Record<ResyncReason, number>>;
  events: Readonly<Record<ChainEventKind, number>>;
}

interface Contracts {
  provider: JsonRpcApiProvider;
  broker: TicketBrokerContract;
  rounds: RoundsManagerContract;
  bonding: BondingManagerContract;
}

/** Where the current round ends: constant through a round unless the round length is changed. */
type RoundSchedule = Pick<RoundFacts, 'roundLength' | 'currentRoundStartBlock'>;

interface HeadState {
  currentRound: bigint;
  poolSize: bigint;
  active: Map<string, boolean>;
  lastInitialized?: { round: bigint; blockHash: string };
  /** Read when the round may have moved on or its length changed; else the last one holds. */
  schedule?: RoundSchedule;
}

/**
 * Follows the chain by polling the head: blocks (with the L1 block number), rounds (NewRound
 * events, pool size, recipient activity), TicketBroker events into the SenderCache, and the gas
 * price. Every poll replays the logs of all blocks since the last one it processed, so an RPC
 * outage is back-filled when the endpoint answers again; a reorg, or a gap longer than
 * `maxBackfillBlocks`, makes it re-read the round state and every cached sender instead.
 */
export class ChainWatcher {
  readonly updates$ = new Subject<ChainUpdate>();
  /** Each new synced head. */
  readonly heads$ = new Subject<ChainHead>();
  /** Each applied event, in chain order. */
  readonly events$ = new Subject<ChainEvent>();
  readonly cache: SenderCache;
  readonly gas: GasPriceMonitor;

  private readonly logger = new Logger(ChainWatcher.name);
  private readonly claimants: readonly string[];
  private readonly topics: string[];
  private discovered?: ProtocolAddresses;
  private contracts?: Contracts;
  private synced?: BlockHeader;
  private rounds?: RoundFacts;
  /** A RoundLengthUpdate was applied: the round schedule is re-read at the synced block. */
  private roundLengthChanged = false;
  private readonly active = new Map<string, boolean>();
  private latestSeen?: bigint;
  /** The block the pool size and round numbers were last read at. */
  private headStateAt?: bigint;
  /** The block the round facts were read at: head() pairs them with it, never with a newer one. */
  private stateHeader?: BlockHeader;
  private announcedBlock?: bigint;
  private unannounced: Omit<ChainUpdate, 'head'> & { senders: Set<string> } = emptyChanges();
  private lastAdvanceAt?: number;
  private failures = 0;
  private totalFailures = 0;
  private lastError?: string;
  private readonly resyncs: Record<ResyncReason, number> = { bootstrap: 0, reorg: 0, gap: 0 };
  private readonly eventCounts = Object.fromEntries(CHAIN_EVENT_KINDS.map((k) => [k, 0])) as Record<
    ChainEventKind,
    number
  >;
  private running?: Promise<boolean>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly rpc: RpcEndpoint,
    private readonly options: ChainWatcherOptions,
  ) {
    if (options.logsMaxBlocks < 1 || options.maxBackfillBlocks < 1) {
      throw new Error('logsMaxBlocks and maxBackfillBlocks must be ≥ 1');
    }
    this.claimants = [...new Set(options.claimants.map((c) => c.toLowerCase()))];
    this.topics = watchedTopics();
    this.gas = new GasPriceMonitor(options.gas);
    const reader: SenderStateReader = {
      read: (sender, claimants, block) => this.readSender(sender, claimants, block),
    };
    this.cache = new SenderCache(reader, this.claimants, () => this.synced?.number);
  }

  /** Polls once now, then every `pollIntervalMs`. Never throws: failures are retried by the loop. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.rpc.destroy();
    this.updates$.complete();
    this.heads$.complete();
    this.events$.complete();
  }

  /** Addresses discovered from the Controller; throws before the first successful poll. */
  get addresses(): ProtocolAddresses {
    if (!this.discovered) throw notSynced();
    return this.discovered;
  }

  isSynced(): boolean {
    return this.synced !== undefined && this.rounds !== undefined;
  }

  /** The last synced head, with rounds and the bounded gas price. */
  head(): ChainHead {
    if (!this.stateHeader || !this.rounds) throw notSynced();
    return {
      block: this.stateHeader.number,
      l1Block: this.stateHeader.l1Block,
      kind: this.stateHeader.kind,
      rounds: { ...this.rounds },
      gasPrice: this.gas.gasPrice(),
    };
  }

  /** Whether `recipient` is in the active set (reserve claims need it); undefined if not tracked. */
  isActive(recipient: string): boolean | undefined {
    return this.active.get(recipient.toLowerCase());
  }

  trackedClaimants(): readonly string[] {
    return this.claimants;
  }

  status(): WatcherStatus {
    return {
      synced: this.isSynced(),
      syncedBlock: this.synced?.number,
      latestSeenBlock: this.latestSeen,
      lastAdvanceAt: this.lastAdvanceAt,
      consecutiveFailures: this.failures,
      totalFailures: this.totalFailures,
      lastError: this.lastError,
      resyncs: { ...this.resyncs },
      events: { ...this.eventCounts },
    };
  }

  /** TicketBroker.claimedReserve at the synced block, for a claimant the cache does not track. */
  async claimedReserve(sender: string, claimant: string): Promise<bigint> {
    if (!this.synced) throw notSynced();
    const block = this.synced.number;
    try {
      const { broker } = await this.bound();
      return await broker.claimedReserve(sender, claimant, { blockTag: Number(block) });
    } catch (err) {
      throw this.rpc.failure(err);
    }
  }

  /**
   * One poll. Concurrent calls share the poll in progress. Resolves true when the poll reached
   * the RPC, false when it failed (the error is logged and counted, the next poll retries).
   */
  tick(): Promise<boolean> {
    this.running ??= this.poll().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<boolean> {
    try {
      const { provider } = await this.bound();
      const [head, gasHex] = await Promise.all([
        readHeader(provider, 'latest', this.options.l1BlockSource),
        provider.send('eth_gasPrice', []) as Promise<string>,
      ]);
      this.latestSeen = head.number;
      await this.follow(provider, head);
      const synced = this.synced!;
      if (this.headStateAt !== synced.number) {
        // After the events: a NewRound changes what "initialized" means for the current round.
        if (this.setHeadState(await this.readHeadState(synced, false))) this.unannounced.all = true;
        this.headStateAt = synced.number;
        this.stateHeader = synced;
      }
      const gasChanged = this.gas.observe(getBigInt(gasHex));
      if (this.failures > 0) {
        this.logger.log({
          msg: 'chain RPC answers again',
          failedPolls: this.failures,
          head: head.number.toString(),
        });
      }
      this.failures = 0;
      this.lastError = undefined;
      this.announce(gasChanged);
      return true;
    } catch (err) {
      this.onFailure(err);
      return false;
    }
  }

  /**
   * Publishes what the polls changed since the last announcement: a poll that fails half-way
   * keeps what it applied, and the next successful one announces it.
   */
  private announce(gasChanged: boolean): void {
    const head = this.head();
    if (head.block !== this.announcedBlock) {
      this.announcedBlock = head.block;
      this.lastAdvanceAt = Date.now();
      this.heads$.next(head);
    }
    const u = this.unannounced;
    if (u.senders.size === 0 && !u.all && !u.resync && u.events === 0 && !gasChanged) return;
    this.unannounced = emptyChanges();
    this.updates$.next({ ...u, head });
  }

  /** Brings the synced block to `head`: replays logs, or re-reads everything when that is unsafe. */
  private async follow(provider: JsonRpcApiProvider, head: BlockHeader): Promise<void> {
    const synced = this.synced;
    if (!synced || !this.rounds) return this.resync(head, 'bootstrap');
    if (head.number < synced.number) return this.resync(head, 'reorg');
    if (head.number === synced.number) {
      return head.hash === synced.hash ? undefined : this.resync(head, 'reorg');
    }
    const anchor = await readHeader(provider, synced.number, this.options.l1BlockSource);
    if (anchor.hash !== synced.hash) return this.resync(head, 'reorg');
    if (head.number - synced.number > BigInt(this.options.maxBackfillBlocks)) return this.resync(head, 'gap');
    return this.catchUp(provider, head);
  }

  private async catchUp(provider: JsonRpcApiProvider, head: BlockHeader): Promise<void> {
    const addresses = this.addresses;
    // Each span's logs and its last header are read together (one batched round trip); a span
    // the provider refuses as too wide is asked again narrower (walkBlockRange).
    const chunks = walkBlockRange(
      { from: this.synced!.number + 1n, to: head.number },
      this.options.logsMaxBlocks,
      (from, to) =>
        Promise.all([
          provider.getLogs({
            address: [addresses.ticketBroker, addresses.roundsManager],
            topics: [this.topics],
            fromBlock: from,
            toBlock: to,
          }),
          to === head.number ? head : readHeader(provider, to, this.options.l1BlockSource),
        ]),
    );
    for await (const {
      value: [logs, end],
    } of chunks) {
      const decoded = logs
        .filter((log) => !log.removed)
        .map((log) => decodeChainLog(log, addresses))
        .filter((e): e is ChainEvent => e !== undefined)
        .sort(compareEvents);
      // From here to the end of the loop body nothing awaits: the events and the synced block
      // move together, which is what lets cache misses read at exactly `synced`.
      const u = this.unannounced;
      for (const event of decoded) {
        if (event.kind === 'NewRound') {
          u.newRound = true;
          u.all = true;
          this.rounds = roundFacts({
            ...this.rounds!,
            lastInitializedRound: event.round,
            lastInitializedBlockHash: event.blockHash,
          });
        }
        if (event.kind === 'RoundLengthUpdate') this.roundLengthChanged = true;
        else for (const sender of this.cache.apply(event)) u.senders.add(sender);
        this.eventCounts[event.kind] += 1;
        this.events$.next(event);
      }
      u.events += decoded.length;
      this.synced = end;
    }
  }

  private async resync(head: BlockHeader, reason: ResyncReason): Promise<void> {
    const state = await this.readHeadState(head, true);
    this.synced = head;
    this.setHeadState(state);
    this.headStateAt = head.number;
    this.stateHeader = head;
    this.resyncs[reason] += 1;
    if (reason !== 'bootstrap') {
      this.logger.warn({ msg: 'chain watcher resync', reason, head: head.number.toString() });
    }
    this.unannounced.all = true;
    this.unannounced.resync = reason;
    for (const sender of await this.cache.refetchAll()) this.unannounced.senders.add(sender);
  }

  /**
   * Round state at `head`; `full` also reads the last initialized round and its hash (no event
   * needed). The round schedule is read only when it may have changed: in a full read, after a
   * RoundLengthUpdate, or once the head reached the start of the next round (read again if the
   * round number moved all the same).
   */
  private async readHeadState(head: BlockHeader, full: boolean): Promise<HeadState> {
    const { rounds, bonding } = await this.bound();
    const opts = { blockTag: Number(head.number) };
    const known = this.rounds;
    const readSchedule = async (): Promise<RoundSchedule> => {
      const [roundLength, currentRoundStartBlock] = await Promise.all([
        rounds.roundLength(opts),
        rounds.currentRoundStartBlock(opts),
      ]);
      return { roundLength, currentRoundStartBlock };
    };
    const scheduleDue =
      full || this.roundLengthChanged || !known || head.l1Block >= nextRoundStartBlock(known);
    const [currentRound, poolSize, lastInitializedRound, schedule, ...active] = await Promise.all([
      rounds.currentRound(opts),
      bonding.getTranscoderPoolSize(opts),
      full ? rounds.lastInitializedRound(opts) : Promise.resolve(undefined),
      scheduleDue ? readSchedule() : Promise.resolve(undefined),
      ...this.claimants.map((c) => bonding.isActiveTranscoder(c, opts)),
    ]);
    const state: HeadState = {
      currentRound,
      poolSize,
      active: new Map(this.claimants.map((c, i) => [c, active[i]])),
      schedule: schedule ?? (currentRound !== known?.currentRound ? await readSchedule() : undefined),
    };
    if (lastInitializedRound !== undefined) {
      const blockHash =
        lastInitializedRound > 0n ? await rounds.blockHashForRound(lastInitializedRound, opts) : ZeroHash;
      state.lastInitialized = { round: lastInitializedRound, blockHash };
    }
    return state;
  }

  /**
   * Returns whether what every sender's max float depends on changed: the pool size, a tracked
   * recipient's activity, or whether the current round is initialized (a round's first block
   * empties its claims before any NewRound, claimsOfRound).
   */
  private setHeadState(state: HeadState): boolean {
    const before = this.rounds;
    const lastInitializedRound = state.lastInitialized?.round ?? before?.lastInitializedRound ?? 0n;
    const lastInitializedBlockHash =
      state.lastInitialized?.blockHash ?? before?.lastInitializedBlockHash ?? ZeroHash;
    // Both are set together by every first read (bootstrap is a full read).
    const schedule = state.schedule ?? before!;
    if (state.schedule) this.roundLengthChanged = false;
    this.rounds = roundFacts({
      currentRound: state.currentRound,
      lastInitializedRound,
      lastInitializedBlockHash,
      poolSize: state.poolSize,
      roundLength: schedule.roundLength,
      currentRoundStartBlock: schedule.currentRoundStartBlock,
    });
    let changed =
      before?.poolSize !== state.poolSize ||
      before?.currentRoundInitialized !== this.rounds.currentRoundInitialized;
    for (const [claimant, active] of state.active) {
      if (this.active.get(claimant) !== active) changed = true;
      this.active.set(claimant, active);
    }
    return changed;
  }

  private async readSender(
    sender: string,
    claimants: readonly string[],
    block: bigint,
  ): Promise<{ info: SenderInfo; claimed: bigint[] }> {
    try {
      const { broker } = await this.bound();
      const opts = { blockTag: Number(block) };
      const [r, ...claimed] = await Promise.all([
        broker.getSenderInfo(sender, opts),
        ...claimants.map((c) => broker.claimedReserve(sender, c, opts)),
      ]);
      return { info: senderInfoOf(r), claimed };
    } catch (err) {
      throw this.rpc.failure(err);
    }
  }

  /** Contract bindings on the current connection (rebuilt after a reconnect). */
  private async bound(): Promise<Contracts> {
    const provider = await this.rpc.provider();
    if (this.contracts?.provider === provider) return this.contracts;
    this.discovered ??= await discoverAddresses(provider, this.options.controllerAddress);
    this.contracts = {
      provider,
      broker: ticketBrokerAt(this.discovered.ticketBroker, provider),
      rounds: roundsManagerAt(this.discovered.roundsManager, provider),
      bonding: bondingManagerAt(this.discovered.bondingManager, provider),
    };
    return this.contracts;
  }

  private onFailure(err: unknown): void {
    const failure = this.rpc.failure(err);
    this.failures += 1;
    this.totalFailures += 1;
    this.lastError = failure.message;
    const reconnectAfter = this.options.reconnectAfterFailures ?? 3;
    if (this.failures % reconnectAfter === 0) this.rpc.reconnect();
    // The first failure and then one in twenty: an outage must not flood the logs.
    if (this.failures === 1 || this.failures % 20 === 0) {
      this.logger.warn({
        msg: 'chain poll failed',
        code: failure.code,
        error: failure.message,
        failedPolls: this.failures,
        syncedBlock: this.synced?.number.toString(),
      });
    }
  }
}

function emptyChanges(): Omit<ChainUpdate, 'head'> & { senders: Set<string> } {
  return { senders: new Set(), all: false, newRound: false, events: 0 };
}

function notSynced(): WatcherError {
  return new WatcherError(WatcherErrorCode.NOT_SYNCED, 'the chain has not been read yet');
}
