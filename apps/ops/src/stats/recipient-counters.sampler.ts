import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { OpsConfig } from '../ops.config.js';
import { TICKET_METRIC_NAMES } from '#app/common';
import { sumMetric } from './prometheus-text.js';

const SCRAPE_TIMEOUT_MS = 2_000;
const MAX_SAMPLES = 20_000;
/** A Recipient that has never answered gets this long (from this service's start) before it is reported. */
export const START_GRACE_MS = 60_000;

export interface CounterSample {
  at: number;
  ticketsReceived: number;
  /** Float of wei: a dashboard figure, never accounting. */
  evReceivedWei: number;
}

/**
 * Every OPS_SAMPLE_INTERVAL_MS, reads the Recipients' /metrics and keeps the summed counters
 * (tickets received, EV credited) in memory. Postgres only holds winning tickets, so these are
 * the only source of "tickets received" and "EV received"; the history restarts with the service.
 */
@Injectable()
export class RecipientCountersSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecipientCountersSampler.name);
  private readonly samples: CounterSample[] = [];
  private timer?: NodeJS.Timeout;
  private failing = false;
  private readonly startedAt = Date.now();
  /** Whether a scrape ever succeeded: until then, and within the grace, a failure is a Recipient starting. */
  private answered = false;

  constructor(private readonly config: OpsConfig) {}

  get enabled(): boolean {
    return (this.config.values.OPS_RECIPIENT_METRICS_URLS ?? []).length > 0;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    const tick = () => {
      void this.sample().finally(() => {
        this.timer = setTimeout(tick, this.config.values.OPS_SAMPLE_INTERVAL_MS);
        this.timer.unref();
      });
    };
    tick();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  latest(): CounterSample | undefined {
    return this.samples.at(-1);
  }

  since(from: number): CounterSample[] {
    return this.samples.filter((s) => s.at >= from);
  }

  /** The last sample taken before `at`, the baseline of a bucket. */
  before(at: number): CounterSample | undefined {
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i].at < at) return this.samples[i];
    return undefined;
  }

  /** One scrape of every replica; a replica that does not answer leaves the sample out. */
  async sample(): Promise<void> {
    const urls = this.config.values.OPS_RECIPIENT_METRICS_URLS ?? [];
    try {
      const texts = await Promise.all(
        urls.map(async (url) => {
          const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return res.text();
        }),
      );
      this.samples.push({
        at: Date.now(),
        ticketsReceived: texts.reduce((n, t) => n + (sumMetric(t, TICKET_METRIC_NAMES.ticketsRecv) ?? 0), 0),
        evReceivedWei: texts.reduce((n, t) => n + (sumMetric(t, TICKET_METRIC_NAMES.valueRecv) ?? 0), 0),
      });
      if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
      if (this.failing) this.logger.log({ msg: 'recipient metrics readable again' });
      this.failing = false;
      this.answered = true;
    } catch (err) {
      const error = (err as Error).message;
      if (!this.answered && Date.now() - this.startedAt < START_GRACE_MS) {
        // Started together (npm start, a deployment): the Recipient may not listen yet.
        this.logger.debug({ msg: 'recipient metrics not readable yet', error });
        return;
      }
      if (!this.failing) this.logger.warn({ msg: 'recipient metrics not readable', error });
      this.failing = true;
    }
  }
}
