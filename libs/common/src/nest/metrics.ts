import { Controller, Get, Header, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process; features register their own counters and gauges on it. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

@Controller('metrics')
class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@Module({})
export class MetricsModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        {
          provide: MetricsRegistry,
          useFactory: () => {
            const m = new MetricsRegistry();
            m.registry.setDefaultLabels({ service });
            return m;
          },
        },
      ],
      exports: [MetricsRegistry],
    };
  }
}
