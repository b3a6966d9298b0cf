import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { Subject } from 'rxjs';
import { NEW_WINNERS_ALL_SENDERS, NEW_WINNERS_CHANNEL } from '#app/database';
import { SENDER_MONITOR_OPTIONS, type SenderMonitorOptions } from './sender-monitor.options.js';

/** Senders with new winning tickets, or 'all' when which ones is not known. */
export type NewWinners = ReadonlySet<string> | 'all';

/** First wait before reconnecting a lost LISTEN connection; doubled per failed attempt, up to the max. */
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
/** A connection attempt not answered by then is a failed one (and retried). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Postgres notifications of new winning tickets (NEW_WINNERS_CHANNEL, sent by the intake's INSERT
 * on commit), on a connection of their own: the SenderMonitor re-reads those senders' pending face
 * value at once rather than at its next poll. A lost connection is reconnected (with backoff);
 * notifications sent meanwhile are lost, so each connection, once listening, emits 'all'. The poll
 * remains the backstop while it is down.
 */
@Injectable()
export class NewWinnersListener implements OnModuleInit, OnApplicationShutdown {
  readonly winners$ = new Subject<NewWinners>();
  private readonly logger = new Logger('SenderMonitor');
  private client?: pg.Client;
  private pid?: number;
  private timer?: NodeJS.Timeout;
  private retryMs = RECONNECT_MIN_MS;
  private lostBefore = false;
  private stopped = false;

  constructor(@Inject(SENDER_MONITOR_OPTIONS) private readonly options: SenderMonitorOptions) {}

  onModuleInit(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.pid = undefined;
    this.winners$.complete();
    await client?.end().catch(() => undefined);
  }

  /** The Postgres backend listening, while connected. */
  backendPid(): number | undefined {
    return this.pid;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      // The URL the service's DataSource connects with (DATABASE_URL), TLS settings included.
      connectionString: this.options.databaseUrl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A connection that only listens sends nothing: keepalives notice a peer that went away.
      keepAlive: true,
    });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      this.lostBefore = true;
      if (this.client === client) {
        this.client = undefined;
        this.pid = undefined;
      }
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({
        msg: 'new-winner notifications lost (pending face value is polled meanwhile), reconnecting',
        error: err?.message,
        retryInMs: this.retryMs,
      });
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (n) => this.onNotification(n));
    let pid: number;
    try {
      await client.connect();
      await client.query(`LISTEN ${NEW_WINNERS_CHANNEL}`);
      pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (lost) return;
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.pid = pid;
    this.retryMs = RECONNECT_MIN_MS;
    if (this.lostBefore) this.logger.log({ msg: 'new-winner notifications listened to again', pid });
    // Whatever was notified while no connection listened is re-read now.
    this.winners$.next('all');
  }

  private onNotification(n: pg.Notification): void {
    if (n.channel !== NEW_WINNERS_CHANNEL || this.stopped) return;
    const payload = n.payload ?? '';
    if (payload === NEW_WINNERS_ALL_SENDERS) this.winners$.next('all');
    else if (payload !== '') this.winners$.next(new Set(payload.split(',')));
  }
}
