import { Module, type DynamicModule } from '@nestjs/common';
import { infrastructure } from '#app/runtime';
import { SenderConfig } from './sender.config.js';

/** Sender: signs ticket batches for broadcasters. Owns sessions and nonce counters (Redis). */
@Module({})
export class SenderModule {
  static forRoot(config: SenderConfig): DynamicModule {
    return {
      module: SenderModule,
      imports: infrastructure('sender', config.values, { database: false }),
      providers: [{ provide: SenderConfig, useValue: config }],
    };
  }
}
