import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '#app/common';
import { RECIPIENT_ENV, RecipientConfig } from './recipient.config.js';

const BASE = {
  CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  RECIPIENT_ADDRESS: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
};

function expiry(raw?: string): bigint {
  return parseEnv(RECIPIENT_ENV, { ...BASE, RECIPIENT_PARAMS_EXPIRY_BLOCKS: raw })
    .RECIPIENT_PARAMS_EXPIRY_BLOCKS;
}

describe('RECIPIENT_PARAMS_EXPIRY_BLOCKS', () => {
  it("defaults to go-livepeer's 40 blocks", () => {
    expect(expiry()).toBe(40n);
  });

  it('takes 2 to 5760 blocks', () => {
    expect(expiry('2')).toBe(2n);
    expect(expiry('5')).toBe(5n);
    expect(expiry('5760')).toBe(5_760n);
  });

  it('refuses what senders would refuse or what would delay redemptions past a round', () => {
    for (const raw of ['0', '1', '5761', '-3', '4.5', 'forty']) {
      expect(() => expiry(raw), raw).toThrow(ConfigError);
    }
    expect(() => expiry('1')).toThrow(/RECIPIENT_PARAMS_EXPIRY_BLOCKS.*\[2, 5760\]/);
  });
});

describe('RecipientConfig', () => {
  it('refuses the zero address as RECIPIENT_ADDRESS', () => {
    const config = (address: string) =>
      new RecipientConfig(
        parseEnv(RECIPIENT_ENV, { ...BASE, RECIPIENT_ADDRESS: address, RECIPIENT_SECRET: 'a'.repeat(64) }),
      );
    expect(() => config(BASE.RECIPIENT_ADDRESS)).not.toThrow();
    expect(() => config(`0x${'0'.repeat(40)}`)).toThrow(/RECIPIENT_ADDRESS must not be the zero address/);
  });

  it('refuses a params TTL shorter than the params live (they would be refused as unknown while valid)', () => {
    const config = (ttl: string, blocks: string, blockSeconds?: string) =>
      new RecipientConfig(
        parseEnv(RECIPIENT_ENV, {
          ...BASE,
          RECIPIENT_SECRET: 'a'.repeat(64),
          RECIPIENT_PARAMS_TTL_SECONDS: ttl,
          RECIPIENT_PARAMS_EXPIRY_BLOCKS: blocks,
          ETH_L1_BLOCK_SECONDS: blockSeconds,
        }),
      );
    // Twice the blocks' time plus a minute, the Sender's session life (paramsLifeBoundMs).
    expect(() => config('3600', '147')).not.toThrow();
    expect(() => config('3600', '148')).toThrow(
      /RECIPIENT_PARAMS_TTL_SECONDS \(3600\) must outlast the params: 2 × RECIPIENT_PARAMS_EXPIRY_BLOCKS × ETH_L1_BLOCK_SECONDS \(12\) \+ 60 s = 3612 s/,
    );
    expect(() => config('138300', '5760')).not.toThrow();
    expect(() => config('138299', '5760')).toThrow(/= 138300 s/);
    // The block time the Sender keeps its sessions by (one setting for both): slower blocks, longer life.
    expect(() => config('3600', '147', '13')).toThrow(/ETH_L1_BLOCK_SECONDS \(13\) \+ 60 s = 3882 s/);
    expect(() => config('3600', '295', '6')).not.toThrow();
  });
});
