import { describe, expect, it } from 'vitest';
import { GasPriceMonitor } from './gas-price-monitor.js';
import { WatcherErrorCode } from './watcher.error.js';

describe('GasPriceMonitor', () => {
  it('never goes below the floor', () => {
    const gas = new GasPriceMonitor({ minGasPrice: 10n, maxGasPrice: 0n });
    expect(gas.gasPrice()).toBe(10n);
    expect(gas.observe(5n)).toBe(false);
    expect(gas.gasPrice()).toBe(10n);
    expect(gas.observe(12n)).toBe(true);
    expect(gas.gasPrice()).toBe(12n);
    expect(gas.lastPolled()).toBe(12n);
  });

  it('refuses to suggest a price above the ceiling; 0 disables the ceiling', () => {
    const gas = new GasPriceMonitor({ minGasPrice: 0n, maxGasPrice: 100n });
    gas.observe(100n);
    expect(gas.suggest()).toBe(100n);
    gas.observe(101n);
    expect(gas.aboveMax()).toBe(true);
    expect(() => gas.suggest()).toThrow(
      expect.objectContaining({ code: WatcherErrorCode.GAS_PRICE_TOO_HIGH }),
    );
    const unbounded = new GasPriceMonitor({ minGasPrice: 0n, maxGasPrice: 0n });
    unbounded.observe(10n ** 30n);
    expect(unbounded.suggest()).toBe(10n ** 30n);
  });

  it('rejects inconsistent bounds', () => {
    expect(() => new GasPriceMonitor({ minGasPrice: 5n, maxGasPrice: 4n })).toThrow();
  });
});
