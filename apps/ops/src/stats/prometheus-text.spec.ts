import { describe, expect, it } from 'vitest';
import { sumMetric } from './prometheus-text.js';

const TEXT = `# HELP recipient_tickets_received_total Tickets received in payments
# TYPE recipient_tickets_received_total counter
recipient_tickets_received_total{sender="0xa",service="recipient"} 12
recipient_tickets_received_total{sender="0xb",service="recipient"} 30
recipient_tickets_received_total_other 5
recipient_ev_received_wei_total{sender="0xa"} 1.5e+16
up 1
`;

describe('sumMetric', () => {
  it('sums every label set of one metric and nothing else', () => {
    expect(sumMetric(TEXT, 'recipient_tickets_received_total')).toBe(42);
    expect(sumMetric(TEXT, 'recipient_ev_received_wei_total')).toBe(1.5e16);
    expect(sumMetric(TEXT, 'up')).toBe(1);
    expect(sumMetric(TEXT, 'absent')).toBeUndefined();
  });
});
