import { Injectable } from '@nestjs/common';
import { ChainClient, TxManager } from '#app/chain';
import { RedemptionStats } from '#app/database';
import { JOB_STATES, RedemptionQueue } from '#app/queue';
import { RedeemerConfig } from '../redeemer.config.js';
import { RedeemerError, RedeemerErrorCode } from '#app/clients';
import { RedeemerLifecycle } from '../redeemer.lifecycle.js';

/** What an operator sees of the Redeemer: state, signer, pending txs, tickets and jobs by status. */
@Injectable()
export class RedeemerStatusService {
  constructor(
    private readonly config: RedeemerConfig,
    private readonly lifecycle: RedeemerLifecycle,
    private readonly txs: TxManager,
    private readonly chain: ChainClient,
    private readonly stats: RedemptionStats,
    private readonly queue: RedemptionQueue,
  ) {}

  requireActive(): void {
    if (this.lifecycle.state !== 'active') {
      throw new RedeemerError(RedeemerErrorCode.NOT_ACTIVE, `the redeemer is ${this.lifecycle.state}`);
    }
  }

  async report() {
    const [balance, tickets, jobs] = await Promise.all([
      Promise.resolve()
        .then(() => this.chain.provider.getBalance(this.txs.address))
        .catch(() => null),
      this.stats.countByStatus(this.config.servedRecipients(this.txs.address)),
      this.queue.counts(JOB_STATES),
    ]);
    return {
      state: this.lifecycle.state,
      // While `blocked`: the recipients another redeemer serves, and its signers.
      recipientConflicts: this.lifecycle.recipientConflicts,
      signer: this.txs.address,
      signerBalance: balance?.toString() ?? null,
      nextNonce: this.lifecycle.state === 'active' ? this.txs.nextNonce().toString() : null,
      pendingTxs: this.txs.pending().map((t) => ({
        id: t.id,
        nonce: t.nonce.toString(),
        purpose: t.purpose,
        hashes: t.hashes,
        tickets: t.refs.length,
        replacements: t.replacements,
      })),
      tickets,
      jobs,
    };
  }
}
