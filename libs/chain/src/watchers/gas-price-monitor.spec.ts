import { describe, expect, it } from 'vitest';
import { GasPriceMonitor, flooredGasPrice } from './gas-price-monitor.js';

describe('GasPriceMonitor', () => {
  it('never goes below the floor', () => {
    const gas = new GasPriceMonitor({ minGasPrice: 10n });
    expect(gas.gasPrice()).toBe(10n);
    expect(gas.observe(5n)).toBe(false);
    expect(gas.gasPrice()).toBe(10n);
    expect(gas.observe(12n)).toBe(true);
    expect(gas.gasPrice()).toBe(12n);
    expect(gas.lastPolled()).toBe(12n);
  });

  it('floors a polled price the same way for every chain view', () => {
    expect(flooredGasPrice(undefined, 3n)).toBe(3n);
    expect(flooredGasPrice(2n, 3n)).toBe(3n);
    expect(flooredGasPrice(4n, 3n)).toBe(4n);
    expect(flooredGasPrice(10n ** 30n, 0n)).toBe(10n ** 30n);
  });

  it('rejects a negative floor', () => {
    expect(() => new GasPriceMonitor({ minGasPrice: -1n })).toThrow();
  });
});
