import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { getBigInt, ZeroHash, type JsonRpcApiProvider } from 'ethers';
import { Subject } from 'rxjs';
import type { SenderInfo } from '#app/ticket';
import { bondingManagerAt, roundsManagerAt, senderInfoOf, ticketBrokerAt } from './bindings.js';
import { BlockPace } from './block-pace.js';
import { ChainClient } from './chain-client.js';
import { discoverAddresses, type ProtocolAddresses } from './discover.js';
import { chainKindOf, type ChainKind } from './chain-kind.js';
import { roundFacts } from './round-end.js';
import { l1BlockOf } from './watchers/block-header.js';
import { flooredGasPrice } from './watchers/gas-price-monitor.js';
import { safeErrorMessage } from '#app/core';

/**
 * Where "the L1 block number" comes from: Arbitrum's `l1BlockNumber` field when the chain's blocks
 * carry it, else the block itself (`auto`); the block itself, refusing a chain whose blocks carry
 * one (`block`); or `l1BlockNumber`, refusing a block without it (`arbitrum`).
 */
export type L1BlockSource = 'auto' | 'block' | 'arbitrum';

export interface ChainFactsOptions {
  l1BlockSource: L1BlockSource;
  /** How often the head is polled. */
  pollIntervalMs: number;
  /** Floor of the gas price used for face values and tx costs (go-livepeer `-minGasPrice`). */
  minGasPrice: bigint;
}

export const CHAIN_FACTS_OPTIONS = Symbol('CHAIN_FACTS_OPTIONS');

/** Round state as the RoundsManager and BondingManager report it at the last seen head. */
export interface RoundFacts {
  currentRound: bigint;
  currentRoundInitialized: boolean;
  lastInitializedRound: bigint;
  /** RoundsManager.blockHashForRound(lastInitializedRound), 0x-prefixed; the ticket auxData hash. */
  lastInitializedBlockHash: string;
  /** Active transcoder pool size: the reserve is split between this many recipients. */
  poolSize: bigint;
  /** RoundsManager.roundLength: blocks per round (L1 blocks on Arbitrum). */
  roundLength: bigint;
  /** RoundsManager.currentRoundStartBlock: the next round starts at this + roundLength. */
  currentRoundStartBlock: bigint;
}

export interface ChainHead {
  /** Block number of the chain the contracts run on. */
  block: bigint;
  /** The L1 block number params expire against (equal to `block` off Arbitrum). */
  l1Block: bigint;
  /** The chain's kind, as its head block shows it (chainKindOf). */
  kind: ChainKind;
  rounds: RoundFacts;
  gasPrice: bigint;
}

/**
 * What services need to know about the chain, kept fresh from the head. A port: the RPC
 * implementation below polls; watchers can push the same facts from events.
 */
export abstract class ChainFacts {
  abstract readonly addresses: ProtocolAddresses;
  /** The last head seen; throws if none was read yet. */
  abstract head(): ChainHead;
  /** Emits every new head. */
  abstract readonly heads$: Subject<ChainHead>;
  /** TicketBroker.getSenderInfo, read at the latest block once the last head was seen. */
  abstract senderInfo(sender: string): Promise<SenderInfo>;
  /** TicketBroker.claimedReserve(sender, claimant) in the current round, read as senderInfo. */
  abstract claimedReserve(sender: string, claimant: string): Promise<bigint>;
  /** Reads the head now instead of waiting for the next poll. */
  abstract refresh(): Promise<ChainHead>;
  /** BondingManager.isActiveTranscoder, read as senderInfo: only active recipients may claim from a reserve. */
  abstract isActiveTranscoder(recipient: string): Promise<boolean>;
  /**
   * When (ms since the epoch) the RPC last answered for the head, changed or not; undefined when
   * this source does not track it. How stale `head()` may be while the RPC is down.
   */
  headReadAt(): number | undefined {
    return undefined;
  }

  /**
   * When (ms since the epoch) a head with a new block number was first read; undefined when this
   * source does not track it. A node that answers but stays on one block (out of sync, stuck) is
   * told apart from a quiet chain by how long that lasts.
   */
  headAdvancedAt(): number | undefined {
    return undefined;
  }
}

/** Reads one memo holds at most before it is simply dropped (it is refilled on demand). */
const MAX_HEAD_READS = 10_000;

/**
 * Reads made for one head block, each once: the callers of one key while its head lasts share one
 * read (in flight or done), so a payment's or a batch's checks cost no RPC round trip of their
 * own. A new block drops them all; a failed read is forgotten (the next caller reads again).
 */
class HeadReads {
  private block?: bigint;
  private readonly reads = new Map<string, Promise<unknown>>();

  get<T>(block: bigint | undefined, key: string, read: () => Promise<T>): Promise<T> {
    if (block === undefined) return read();
    if (block !== this.block || this.reads.size >= MAX_HEAD_READS) {
      this.reads.clear();
      this.block = block;
    }
    let hit = this.reads.get(key) as Promise<T> | undefined;
    if (!hit) {
      const made = read();
      made.catch(() => {
        if (this.reads.get(key) === made) this.reads.delete(key);
      });
      this.reads.set(key, made);
      hit = made;
    }
    return hit;
  }
}

/**
 * The chain read over RPC: the head polled, and per-account reads at the latest block, made at most
 * once per head block (HeadReads; the Sender's params checks and the Recipient's max float and
 * sender checks read here). The Redeemer's funds check does not come here: it must read the
 * chain as it is when it claims, not as of the head (RedemptionCalls.senderFunds).
 */
@Injectable()
export class RpcChainFacts extends ChainFacts implements OnModuleInit, OnApplicationShutdown {
  readonly heads$ = new Subject<ChainHead>();
  private readonly reads = new HeadReads();
  private current?: ChainHead;
  private readAt?: number;
  private advancedAt?: number;
  private discovered?: ProtocolAddresses;
  private timer?: NodeJS.Timeout;
  private failing = false;
  private stopped = false;
  private readonly logger = new Logger(RpcChainFacts.name);

  constructor(
    private readonly chain: ChainClient,
    @Inject(CHAIN_FACTS_OPTIONS) private readonly options: ChainFactsOptions,
    /** Fed every head read here (the process's one BlockPace, from ChainModule). */
    @Optional() private readonly pace?: BlockPace,
  ) {
    super();
  }

  get addresses(): ProtocolAddresses {
    if (!this.discovered) throw new Error('chain facts are not initialized yet');
    return this.discovered;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      // The RPC may come up later: keep polling; health reports the chain down meanwhile.
      this.logger.warn({ msg: 'could not read the chain at boot', error: safeErrorMessage(err) });
    }
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.heads$.complete();
  }

  head(): ChainHead {
    if (!this.current) throw new Error('no chain head has been read yet');
    return this.current;
  }

  senderInfo(sender: string): Promise<SenderInfo> {
    return this.reads.get(this.current?.block, `info:${sender.toLowerCase()}`, async () => {
      const broker = ticketBrokerAt(this.addresses.ticketBroker, this.chain.provider);
      return senderInfoOf(await broker.getSenderInfo(sender));
    });
  }

  claimedReserve(sender: string, claimant: string): Promise<bigint> {
    const key = `claimed:${sender.toLowerCase()}:${claimant.toLowerCase()}`;
    return this.reads.get(this.current?.block, key, async () =>
      ticketBrokerAt(this.addresses.ticketBroker, this.chain.provider).claimedReserve(sender, claimant),
    );
  }

  override isActiveTranscoder(recipient: string): Promise<boolean> {
    return this.reads.get(this.current?.block, `active:${recipient.toLowerCase()}`, async () =>
      bondingManagerAt(this.addresses.bondingManager, this.chain.provider).isActiveTranscoder(recipient),
    );
  }

  async refresh(): Promise<ChainHead> {
    const provider = this.chain.provider as JsonRpcApiProvider;
    this.discovered ??= await discoverAddresses(provider, this.chain.options.controllerAddress);
    const raw = (await provider.send('eth_getBlockByNumber', ['latest', false])) as {
      number: string;
      l1BlockNumber?: string;
    };
    const block = getBigInt(raw.number);
    if (this.current && block === this.current.block) {
      this.readAt = Date.now();
      return this.current;
    }
    const blockTag = Number(block);
    const rounds = roundsManagerAt(this.addresses.roundsManager, provider);
    const bonding = bondingManagerAt(this.addresses.bondingManager, provider);
    const [currentRound, lastInitializedRound, roundLength, currentRoundStartBlock, poolSize, fee] =
      await Promise.all([
        rounds.currentRound({ blockTag }),
        rounds.lastInitializedRound({ blockTag }),
        rounds.roundLength({ blockTag }),
        rounds.currentRoundStartBlock({ blockTag }),
        bonding.getTranscoderPoolSize({ blockTag }),
        provider.getFeeData(),
      ]);
    const hash =
      lastInitializedRound > 0n
        ? await rounds.blockHashForRound(lastInitializedRound, { blockTag })
        : ZeroHash;
    const polledGasPrice = fee.gasPrice ?? 0n;
    this.current = {
      block,
      l1Block: l1BlockOf(raw, this.options.l1BlockSource),
      kind: chainKindOf(raw),
      rounds: roundFacts({
        currentRound,
        lastInitializedRound,
        lastInitializedBlockHash: hash,
        poolSize,
        roundLength,
        currentRoundStartBlock,
      }),
      gasPrice: flooredGasPrice(polledGasPrice, this.options.minGasPrice),
    };
    this.readAt = Date.now();
    this.advancedAt = this.readAt;
    this.pace?.observe(this.current.l1Block, this.readAt);
    this.heads$.next(this.current);
    return this.current;
  }

  override headReadAt(): number | undefined {
    return this.readAt;
  }

  override headAdvancedAt(): number | undefined {
    return this.advancedAt;
  }

  /** Polls forever; logs when reading the chain starts failing and when it recovers, not every poll. */
  private schedule(): void {
    this.timer = setTimeout(() => {
      this.refresh()
        .then(() => {
          if (this.failing)
            this.logger.log({ msg: 'chain head readable again', block: this.current?.block.toString() });
          this.failing = false;
        })
        .catch((err: unknown) => {
          // A read in flight at shutdown fails on the closed connection: nothing to report.
          if (this.stopped) return;
          if (!this.failing)
            this.logger.warn({ msg: 'chain head refresh failing', error: safeErrorMessage(err) });
          this.failing = true;
        })
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.options.pollIntervalMs);
  }
}
