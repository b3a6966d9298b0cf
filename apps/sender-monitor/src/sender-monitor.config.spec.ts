import { describe, expect, it } from 'vitest';
import { ConfigError } from '#app/common';
import { SenderMonitorConfig } from './sender-monitor.config.js';

const CONTROLLER = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const R0 = '0x' + 'aa'.repeat(20);
const R1 = '0x' + 'BB'.repeat(20);

describe('SenderMonitorConfig', () => {
  it('has go-livepeer-like defaults and parses the recipient list', () => {
    const v = SenderMonitorConfig.fromEnv({
      CONTROLLER_ADDRESS: CONTROLLER,
      SENDER_MONITOR_RECIPIENTS: `${R0}, ${R1},${R0}`,
    }).values;
    expect(v.SENDER_MONITOR_RECIPIENTS).toEqual([R0, R1.toLowerCase()]);
    expect(v.ETH_L1_BLOCK_SOURCE).toBe('auto');
    expect(v.SENDER_MONITOR_SENDER_TTL_SECONDS).toBe(172_800);
    expect(v.ETH_MIN_GAS_PRICE).toBe(0n);
    expect(v.SENDER_MONITOR_GRPC_URL).toBe('127.0.0.1:8935');
    expect(v.ETH_LOGS_MAX_BLOCKS).toBe(2_000);
    expect(
      SenderMonitorConfig.fromEnv({ CONTROLLER_ADDRESS: CONTROLLER }).values.SENDER_MONITOR_RECIPIENTS,
    ).toEqual([]);
  });

  it('lists every bad setting, and refuses renamed settings', () => {
    let caught: unknown;
    try {
      SenderMonitorConfig.fromEnv({
        CONTROLLER_ADDRESS: CONTROLLER,
        SENDER_MONITOR_RECIPIENTS: `${R0},nope`,
        ETH_L1_BLOCK_SOURCE: 'optimism',
        ETH_LOGS_MAX_BLOCKS: '0',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toHaveLength(3);
    expect((caught as ConfigError).problems).toContain(
      'ETH_LOGS_MAX_BLOCKS="0" is invalid: expected an integer in [1, 1000000]',
    );
    expect(() =>
      SenderMonitorConfig.fromEnv({ CONTROLLER_ADDRESS: CONTROLLER, SENDER_MONITOR_MIN_GAS_PRICE: '10' }),
    ).toThrow(/SENDER_MONITOR_MIN_GAS_PRICE was renamed ETH_MIN_GAS_PRICE/);
    // One setting for every service: a SenderMonitor-only copy let it count Arbitrum's own blocks.
    expect(() =>
      SenderMonitorConfig.fromEnv({
        CONTROLLER_ADDRESS: CONTROLLER,
        SENDER_MONITOR_L1_BLOCK_SOURCE: 'arbitrum',
      }),
    ).toThrow(/SENDER_MONITOR_L1_BLOCK_SOURCE was renamed ETH_L1_BLOCK_SOURCE/);
    expect(() =>
      SenderMonitorConfig.fromEnv({
        CONTROLLER_ADDRESS: CONTROLLER,
        SENDER_MONITOR_RECIPIENTS: `0x${'0'.repeat(40)}`,
      }),
    ).toThrow(/zero address/);
  });
});
