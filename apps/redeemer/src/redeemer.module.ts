import { Module, type DynamicModule } from '@nestjs/common';
import { infrastructure } from '#app/runtime';
import { RedeemerConfig } from './redeemer.config.js';

/** Redeemer: BullMQ workers that redeem winning tickets on the TicketBroker exactly once. */
@Module({})
export class RedeemerModule {
  static forRoot(config: RedeemerConfig): DynamicModule {
    return {
      module: RedeemerModule,
      imports: infrastructure('redeemer', config.values, { database: true }),
      providers: [{ provide: RedeemerConfig, useValue: config }],
    };
  }
}
