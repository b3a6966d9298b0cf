import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.js';
import { ticketMetrics } from './ticket-metrics.js';

describe('ticket metrics', () => {
  it('registers the go-livepeer-style series once per registry', async () => {
    const metrics = new MetricsRegistry();
    const m = ticketMetrics(metrics);
    expect(ticketMetrics(metrics)).toBe(m);
    m.sent('0xr', 3, 1_500);
    m.received('0xs', 2, 1_000, 1);
    m.redeemed('0xs', 10n ** 18n);
    m.redemptionError('TICKET_USED');
    m.setMaxFloat('0xs', '0xr', -5n);
    m.gasPriceFrom(() => 2_000_000_000n);
    const text = await metrics.registry.metrics();
    expect(text).toContain('ticketpay_tickets_sent_total{recipient="0xr"} 3');
    expect(text).toContain('ticketpay_ticket_value_sent_wei{recipient="0xr"} 1500');
    expect(text).toContain('ticketpay_ticket_value_recv_wei{sender="0xs"} 1000');
    expect(text).toContain('ticketpay_winning_tickets_recv_total{sender="0xs"} 1');
    expect(text).toContain('ticketpay_value_redeemed_wei{sender="0xs"} 1000000000000000000');
    expect(text).toContain('ticketpay_ticket_redemption_errors_total{code="TICKET_USED"} 1');
    expect(text).toContain('ticketpay_max_float_wei{sender="0xs",recipient="0xr"} -5');
    expect(text).toContain('ticketpay_gas_price_wei 2000000000');
  });
});
