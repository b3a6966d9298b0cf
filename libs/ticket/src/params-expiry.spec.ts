import { describe, expect, it } from 'vitest';
import { blocksUntilParamsExpire, paramsExpired, paramsExpiredForSender } from './params-expiry.js';

describe('params expiry', () => {
  it('expires at the expiration block itself (PROTOCOL §5.4 step 6)', () => {
    expect(paramsExpired(100n, 99n)).toBe(false);
    expect(paramsExpired(100n, 100n)).toBe(true);
    expect(paramsExpired(100n, 101n)).toBe(true);
  });

  it('counts the blocks left down to 0, never below', () => {
    expect(blocksUntilParamsExpire(100n, 95n)).toBe(5n);
    expect(blocksUntilParamsExpire(100n, 100n)).toBe(0n);
    expect(blocksUntilParamsExpire(100n, 140n)).toBe(0n);
    for (const l1 of [90n, 99n, 100n, 120n]) {
      expect(blocksUntilParamsExpire(100n, l1) === 0n).toBe(paramsExpired(100n, l1));
    }
  });

  it('the Sender stops one block before the Recipient refuses (§7.3)', () => {
    expect(paramsExpiredForSender(100n, 98n)).toBe(false);
    expect(paramsExpiredForSender(100n, 99n)).toBe(true);
    expect(paramsExpired(100n, 99n)).toBe(false);
  });
});
