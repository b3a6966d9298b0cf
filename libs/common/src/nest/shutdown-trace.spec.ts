import { ConsoleLogger, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { bootstrapService } from './bootstrap.js';
import { pendingShutdownSteps } from './shutdown-trace.js';

/** A store client whose close waits until the test lets it go. */
@Injectable()
class SlowStore implements OnApplicationShutdown {
  release!: () => void;
  readonly closing = new Promise<void>((resolve) => (this.release = resolve));
  onApplicationShutdown(): Promise<void> {
    return this.closing;
  }
}

@Module({ providers: [SlowStore] })
class SlowModule {}

describe('traceShutdown (through bootstrapService)', () => {
  it('names the hook a closing service still waits on, and nothing once it has closed', async () => {
    const app = await bootstrapService({
      name: 'slow-service',
      module: SlowModule,
      logger: new ConsoleLogger('test', { logLevels: ['fatal'] }),
      http: { host: '127.0.0.1', port: 0 },
      exitOnSignals: false,
    });
    expect(pendingShutdownSteps()).toBe('');
    const closed = app.close();
    // The HTTP server closes before the shutdown hooks run: wait until the hook is the one left.
    const deadline = Date.now() + 5_000;
    while (!pendingShutdownSteps().includes('SlowStore') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(pendingShutdownSteps()).toBe('slow-service: SlowStore.onApplicationShutdown');
    app.get(SlowStore).release();
    await closed;
    expect(pendingShutdownSteps()).toBe('');
  });
});
