import { Module, type DynamicModule } from '@nestjs/common';
import { infrastructure } from '#app/runtime';
import { SenderMonitorConfig } from './sender-monitor.config.js';

/** SenderMonitor: watches the chain and serves each sender's max float; go-livepeer's TicketRedeemer gRPC. */
@Module({})
export class SenderMonitorModule {
  static forRoot(config: SenderMonitorConfig): DynamicModule {
    return {
      module: SenderMonitorModule,
      imports: infrastructure('sender-monitor', config.values, { database: true }),
      providers: [{ provide: SenderMonitorConfig, useValue: config }],
    };
  }
}
