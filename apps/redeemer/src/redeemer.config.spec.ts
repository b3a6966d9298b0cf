import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#app/common';
import { RedeemerConfig, ratio } from './redeemer.config.js';

const BASE = { CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const KEY = `0x${'11'.repeat(32)}`;

function problems(env: Record<string, string>): string[] {
  try {
    RedeemerConfig.fromEnv({ ...BASE, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

describe('RedeemerConfig', () => {
  it('boots without a signer (redemption disabled)', () => {
    const config = RedeemerConfig.fromEnv(BASE);
    expect(config.signerSource()).toBeUndefined();
    expect(config.values.REDEEMER_CONCURRENCY).toBe(32);
    expect(config.values.REDEEMER_MAX_TX_COST_RATIO).toMatchObject({ num: 2n, den: 10n });
    expect(config.values.ETH_LOGS_MAX_BLOCKS).toBe(2_000);
  });

  it('refuses a gas price floor above the cap, under which nothing could be redeemed', () => {
    expect(problems({ ETH_MIN_GAS_PRICE: '10', REDEEMER_MAX_GAS_PRICE: '5' })).toEqual([
      'ETH_MIN_GAS_PRICE must not exceed REDEEMER_MAX_GAS_PRICE (nothing could ever be redeemed)',
    ]);
    expect(problems({ ETH_MIN_GAS_PRICE: '5', REDEEMER_MAX_GAS_PRICE: '5' })).toEqual([]);
    expect(problems({ ETH_MIN_GAS_PRICE: '10' })).toEqual([]);
  });

  it('takes the eth_getLogs span, a positive block count', () => {
    expect(RedeemerConfig.fromEnv({ ...BASE, ETH_LOGS_MAX_BLOCKS: '500' }).values.ETH_LOGS_MAX_BLOCKS).toBe(
      500,
    );
    expect(problems({ ETH_LOGS_MAX_BLOCKS: '0' })).toEqual([
      'ETH_LOGS_MAX_BLOCKS="0" is invalid: expected an integer in [1, 1000000]',
    ]);
    expect(problems({ ETH_LOGS_MAX_BLOCKS: '2k' })).toHaveLength(1);
  });

  it('takes a dev private key, never shows it, and accepts it without 0x', () => {
    const config = RedeemerConfig.fromEnv({ ...BASE, REDEEMER_PRIVATE_KEY: KEY.slice(2) });
    expect(config.signerSource()).toEqual({ kind: 'private-key', privateKey: KEY });
    expect(JSON.stringify(config.redacted())).not.toContain('1111');
    expect(JSON.stringify(config.redacted())).toContain('"REDEEMER_MAX_TX_COST_RATIO":"0.2"');
    expect(problems({ REDEEMER_PRIVATE_KEY: 'nope-secret' }).join()).not.toContain('nope-secret');
  });

  it('reads a keystore with its password from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redeemer-config-'));
    writeFileSync(join(dir, 'key.json'), '{"version":3}');
    writeFileSync(join(dir, 'pass'), 'hunter2\n');
    const config = RedeemerConfig.fromEnv({
      ...BASE,
      REDEEMER_KEYSTORE_FILE: join(dir, 'key.json'),
      REDEEMER_KEYSTORE_PASSWORD_FILE: join(dir, 'pass'),
    });
    expect(config.signerSource()).toEqual({ kind: 'keystore', json: '{"version":3}', password: 'hunter2' });
  });

  it('lists every inconsistent signer setting at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redeemer-config-'));
    writeFileSync(join(dir, 'key.json'), '{}');
    expect(problems({ REDEEMER_PRIVATE_KEY: KEY, REDEEMER_KEYSTORE_FILE: join(dir, 'key.json') })).toEqual([
      'set either REDEEMER_PRIVATE_KEY or REDEEMER_KEYSTORE_FILE, not both',
      'REDEEMER_KEYSTORE_FILE needs REDEEMER_KEYSTORE_PASSWORD or REDEEMER_KEYSTORE_PASSWORD_FILE',
    ]);
    expect(problems({ REDEEMER_KEYSTORE_PASSWORD: 'x' })).toEqual([
      'a keystore password is set but REDEEMER_KEYSTORE_FILE is not',
    ]);
    expect(problems({ REDEEMER_RETRY_BASE_MS: '5000', REDEEMER_RETRY_MAX_MS: '1000' })).toEqual([
      'REDEEMER_RETRY_BASE_MS must not exceed REDEEMER_RETRY_MAX_MS',
    ]);
    expect(problems({ REDEEMER_OPS_TOKEN: 'short secret' }).join()).not.toContain('short secret');
    expect(problems({ REDEEMER_KEYSTORE_FILE: '/no/such/file', REDEEMER_KEYSTORE_PASSWORD: 'x' })[0]).toMatch(
      /no such file/,
    );
  });

  it("serves the signer's own tickets by default, a list of recipients, or all of them", () => {
    const signer = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const other = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
    expect(RedeemerConfig.fromEnv(BASE).servedRecipients(signer)).toEqual([signer.toLowerCase()]);
    expect(
      RedeemerConfig.fromEnv({ ...BASE, REDEEMER_RECIPIENTS: '*' }).servedRecipients(signer),
    ).toBeUndefined();
    expect(
      RedeemerConfig.fromEnv({ ...BASE, REDEEMER_RECIPIENTS: `${other}, ${signer}` }).servedRecipients(
        signer,
      ),
    ).toEqual([other.toLowerCase(), signer.toLowerCase()]);
    expect(problems({ REDEEMER_RECIPIENTS: '0x1234' })[0]).toMatch(/REDEEMER_RECIPIENTS/);
  });

  it('refuses a recipient list that names one twice or mixes * with addresses', () => {
    const a = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    // Twice in other cases is still one recipient, leased once.
    expect(problems({ REDEEMER_RECIPIENTS: `${a},${a.toLowerCase()}` })).toEqual([
      expect.stringMatching(
        /REDEEMER_RECIPIENTS.*0x70997970c51812dc3a010c7d01b50e0d17dc79c8 is listed twice/,
      ),
    ]);
    expect(problems({ REDEEMER_RECIPIENTS: `${a}, *` })).toEqual([
      expect.stringMatching(/REDEEMER_RECIPIENTS.*\* \(every recipient\) cannot be combined with addresses/),
    ]);
    expect(
      RedeemerConfig.fromEnv({ ...BASE, REDEEMER_RECIPIENTS: ' * ' }).servedRecipients(a),
    ).toBeUndefined();
  });

  it('parses ratios exactly', () => {
    expect(ratio('0.25')).toMatchObject({ num: 25n, den: 100n });
    expect(ratio('3')).toMatchObject({ num: 3n, den: 1n });
    expect(() => ratio('-1')).toThrow();
    expect(() => ratio('1e-3')).toThrow();
  });
});
