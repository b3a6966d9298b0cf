import { Module, type DynamicModule } from '@nestjs/common';
import { infrastructure } from '#app/runtime';
import { RecipientConfig } from './recipient.config.js';

/** Recipient: issues ticket params and validates payments for orchestrators; stores winners in Postgres. */
@Module({})
export class RecipientModule {
  static forRoot(config: RecipientConfig): DynamicModule {
    return {
      module: RecipientModule,
      imports: infrastructure('recipient', config.values, { database: true }),
      providers: [{ provide: RecipientConfig, useValue: config }],
    };
  }
}
