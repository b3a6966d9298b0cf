import type { INestApplication } from '@nestjs/common';

const HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;

/** Steps of every traced app's shutdown that have started and not finished, in this process, with counts. */
const pending = new Map<string, number>();

interface HookHost {
  instance?: unknown;
  name?: unknown;
}

/** The parts of Nest's application object this reads (not public API; absent parts are skipped). */
interface NestInternals {
  container?: {
    getModules(): Map<string, Record<'providers' | 'controllers' | 'injectables', Map<unknown, HookHost>>>;
  };
  microservices?: { close(): Promise<unknown> }[];
}

/**
 * Makes a shutdown that hangs say what it waits for: every lifecycle hook of `app`'s providers
 * and controllers, and the closing of its HTTP and gRPC servers, is recorded while it runs
 * (`pendingShutdownSteps`). A stuck stop has been seen only under load, where attaching a
 * debugger is not an option; the names alone point at the client or server that did not close.
 */
export function traceShutdown(app: INestApplication, service: string): void {
  const nest = app as unknown as NestInternals;
  for (const module of nest.container?.getModules().values() ?? []) {
    for (const host of [
      ...module.providers.values(),
      ...module.controllers.values(),
      ...module.injectables.values(),
    ]) {
      const instance = host.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      for (const hook of HOOKS) {
        if (typeof instance[hook] !== 'function' || Object.hasOwn(instance, hook)) continue;
        const label = `${service}: ${instance.constructor?.name ?? String(host.name)}.${hook}`;
        instance[hook] = traced(label, (instance[hook] as (...args: unknown[]) => unknown).bind(instance));
      }
    }
  }
  const http = app.getHttpAdapter();
  http.close = traced(`${service}: HTTP server close`, http.close.bind(http));
  for (const microservice of nest.microservices ?? []) {
    microservice.close = traced(`${service}: gRPC server close`, microservice.close.bind(microservice));
  }
}

/** The shutdown steps of traced apps still running, oldest first ('' when none). */
export function pendingShutdownSteps(): string {
  return [...pending].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label)).join(', ');
}

function traced<A extends unknown[], R>(label: string, run: (...args: A) => R): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    pending.set(label, (pending.get(label) ?? 0) + 1);
    try {
      return await run(...args);
    } finally {
      const left = pending.get(label)! - 1;
      if (left > 0) pending.set(label, left);
      else pending.delete(label);
    }
  };
}
