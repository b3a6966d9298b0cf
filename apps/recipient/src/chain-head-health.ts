import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ChainFacts } from '#app/chain';
import { HealthRunner } from '#app/common';
import { currentHead } from './chain-head.js';
import { RecipientConfig } from './recipient.config.js';

/**
 * The Recipient's /health entry `head`: down while it refuses params and payments for the head
 * it judges them on (not read yet, read too long ago, or stuck on one block: currentHead), so an
 * operator sees the refusals' cause where the RPC itself still answers.
 */
@Injectable()
export class ChainHeadHealth implements OnApplicationBootstrap {
  constructor(
    private readonly health: HealthRunner,
    private readonly chain: ChainFacts,
    private readonly config: RecipientConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.health.add({
      name: 'head',
      check: () =>
        Promise.resolve().then(() => {
          const head = currentHead(this.chain, this.config.headLimits());
          return { block: head.block.toString(), l1Block: head.l1Block.toString() };
        }),
    });
  }
}
