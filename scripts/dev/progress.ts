import pg from 'pg';
import { Rational } from '#app/ticket';
import { NAME_WIDTH } from './console.js';
import type { DemoCounters } from './demo-broadcaster.js';

export interface ProgressFigures {
  sent: number;
  /** EV credited by the Recipient, wei. */
  evPaid: Rational;
  /** Winning tickets stored by the Recipient (all runs). */
  winners: number;
  /** Winning tickets redeemed on-chain (all runs). */
  redeemed: number;
  /** Gas used by the Redeemer's mined transactions, and what it cost in wei. */
  gasUsed: bigint;
  gasCostWei: bigint;
}

const WEI_PER_ETH = 10n ** 18n;

/**
 * The figures of the progress line: what the demo broadcaster sent and paid (its counters), and
 * what became of the winners (the Recipient's and Redeemer's tables, so they cover every run).
 */
export class DemoProgress {
  private counters: DemoCounters = { sent: 0, accepted: 0, winners: 0, ev: '0/1' };
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    this.pool.on('error', () => {});
  }

  update(counters: DemoCounters): void {
    this.counters = counters;
  }

  async read(): Promise<ProgressFigures> {
    const { rows } = await this.pool.query<{
      winners: string;
      redeemed: string;
      gas_used: string;
      gas_cost: string;
    }>(`SELECT
          (SELECT count(*) FROM winning_ticket) AS winners,
          (SELECT count(*) FROM winning_ticket WHERE status = 'redeemed') AS redeemed,
          (SELECT coalesce(sum(gas_used), 0) FROM chain_tx WHERE gas_used IS NOT NULL) AS gas_used,
          (SELECT coalesce(sum(gas_used * effective_gas_price), 0)
             FROM chain_tx WHERE gas_used IS NOT NULL) AS gas_cost`);
    const row = rows[0];
    const [num, den] = this.counters.ev.split('/').map(BigInt);
    return {
      sent: this.counters.sent,
      evPaid: Rational.of(num, den),
      winners: Number(row.winners),
      redeemed: Number(row.redeemed),
      gasUsed: BigInt(row.gas_used),
      gasCostWei: BigInt(row.gas_cost),
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `demo │ tickets sent 24 · EV paid 0.024000 ETH · winners 3 · redeemed 2 · gas 190312 (0.000019 ETH)` */
export function formatProgress(f: ProgressFigures): string {
  const ev = f.evPaid.div(Rational.of(WEI_PER_ETH)).toDecimalString(6);
  const gasEth = Rational.of(f.gasCostWei, WEI_PER_ETH).toDecimalString(6);
  return (
    `\x1b[1mdemo\x1b[0m${' '.repeat(NAME_WIDTH - 'demo'.length)}│ tickets sent ${f.sent} · EV paid ${ev} ETH · winners ${f.winners} · ` +
    `redeemed ${f.redeemed} · gas ${f.gasUsed} (${gasEth} ETH)`
  );
}
