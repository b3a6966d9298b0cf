import { describe, expect, it } from 'vitest';
import { WinningTicketStatus } from '../winning-ticket/winning-ticket.entity.js';
import { OPEN_STATUSES } from '../winning-ticket/winning-ticket.transitions.js';
import { statusList } from './status-sql.js';

describe('statusList', () => {
  it('writes a status group as the IN list the read model filters by', () => {
    expect(statusList(OPEN_STATUSES)).toBe("'received','queued','submitting','submitted'");
    expect(statusList([WinningTicketStatus.REDEEMED])).toBe("'redeemed'");
  });
});
