import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { safeErrorMessage } from '#app/core';
import { ChainFacts, ChainTxStatus, TxManager, roundsManagerAt, type ChainHead } from '#app/chain';
import { RedeemerConfig } from '../redeemer.config.js';
import { RedeemerChain } from '../redemption/redeemer-chain.js';
import { simulatedTxGasLimit } from '../redemption/redemption-gas.js';

/** The purpose the initializer's txs are stored under (metrics, ops status). */
export const INITIALIZE_ROUND_PURPOSE = 'initialize-round';

/**
 * go-livepeer's `-initializeRound`: a new round that nobody has initialized blocks every
 * redemption (the broker refuses "current round is not initialized"), and a ticket kept waiting
 * past its validity expires, its face value lost. With REDEEMER_INITIALIZE_ROUND, once a head shows
 * the current round uninitialized, this Redeemer waits a random delay of at most
 * REDEEMER_INITIALIZE_ROUND_MAX_DELAY_SECONDS (so that the nodes that do this seldom all pay for
 * the same call), looks again, and initializes the round through its TxManager (persisted nonce,
 * fee bumps) when it still needs it. A failed attempt is tried again on a later head.
 */
@Injectable()
export class RoundInitializer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RoundInitializer.name);
  private subscription?: Subscription;
  /** Whether an attempt is under way: heads meanwhile start none. */
  private attempting = false;
  private delay?: { timer: NodeJS.Timeout; done: () => void };
  private stopped = false;

  constructor(
    private readonly config: RedeemerConfig,
    private readonly facts: ChainFacts,
    private readonly chain: RedeemerChain,
    private readonly txs: TxManager,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.values.REDEEMER_INITIALIZE_ROUND) return;
    this.subscription = this.facts.heads$.subscribe((head) => void this.onHead(head));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.subscription?.unsubscribe();
    if (this.delay) {
      clearTimeout(this.delay.timer);
      this.delay.done();
    }
  }

  /** Resolves once an attempt prompted by `head` (if any) has ended. */
  async onHead(head: ChainHead): Promise<void> {
    const round = head.rounds.currentRound;
    if (head.rounds.currentRoundInitialized || this.attempting || this.stopped) return;
    this.attempting = true;
    try {
      await this.randomDelay();
      if (this.stopped) return;
      await this.initialize(round);
    } catch (err) {
      this.logger.warn({
        msg: 'round not initialized; tried again on a later head',
        round: round.toString(),
        error: safeErrorMessage(err),
      });
    } finally {
      this.attempting = false;
    }
  }

  private async initialize(round: bigint): Promise<void> {
    const latest = await this.chain.latestHead();
    // Initialized meanwhile (by another node), or a later round is due: nothing to send for this one.
    if (latest.rounds.currentRoundInitialized || latest.rounds.currentRound !== round) return;
    const to = this.facts.addresses.roundsManager;
    const data = roundsManagerAt(to).interface.encodeFunctionData('initializeRound');
    const sim = await this.chain.calls().simulate(this.txs.address, to, data);
    if (!sim.ok) throw new Error(`initializeRound would revert: ${sim.error.message}`);
    const sent = await this.txs.send({
      purpose: INITIALIZE_ROUND_PURPOSE,
      to,
      data,
      gasLimit: simulatedTxGasLimit(sim.gas),
    });
    const { record } = await this.txs.wait(sent.id);
    if (record.status !== ChainTxStatus.MINED) {
      throw new Error(
        `initializeRound tx ${record.status}${record.errorCode ? ` (${record.errorCode})` : ''}`,
      );
    }
    this.logger.log({ msg: 'round initialized', round: round.toString(), txHash: record.minedHash });
  }

  private randomDelay(): Promise<void> {
    const maxMs = this.config.values.REDEEMER_INITIALIZE_ROUND_MAX_DELAY_SECONDS * 1_000;
    if (maxMs === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.delay = undefined;
        resolve();
      };
      this.delay = { timer: setTimeout(done, Math.floor(Math.random() * maxMs)), done };
    });
  }
}
