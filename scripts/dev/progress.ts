import { openRedemptionStats, type RedemptionStats } from '#app/database';
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
  private opened?: ReturnType<typeof openRedemptionStats>;

  constructor(private readonly databaseUrl: string) {}

  update(counters: DemoCounters): void {
    this.counters = counters;
  }

  async read(): Promise<ProgressFigures> {
    const stats = await this.stats();
    const [counts, gas] = await Promise.all([stats.countByStatus(undefined), stats.gasByPurpose()]);
    const [num, den] = this.counters.ev.split('/').map(BigInt);
    return {
      sent: this.counters.sent,
      evPaid: Rational.of(num, den),
      winners: Object.values(counts).reduce((a, b) => a + b, 0),
      redeemed: counts.redeemed ?? 0,
      gasUsed: gas.reduce((sum, g) => sum + BigInt(g.gas_used), 0n),
      gasCostWei: gas.reduce((sum, g) => sum + BigInt(g.cost), 0n),
    };
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened).close();
  }

  /** The read model, connecting on first use and again after a failed connection attempt. */
  private async stats(): Promise<RedemptionStats> {
    this.opened ??= openRedemptionStats(this.databaseUrl);
    try {
      return (await this.opened).stats;
    } catch (err) {
      this.opened = undefined;
      throw err;
    }
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
