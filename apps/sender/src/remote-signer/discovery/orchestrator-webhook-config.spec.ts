import { describe, expect, it } from 'vitest';
import { ConfigError } from '#app/common';
import { SenderConfig } from '../../sender.config.js';

const BASE = { CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const SECRET = 's3cr3t-token';

/** The ConfigError `run` throws. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('no ConfigError');
}

describe('SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL (go-livepeer -orchWebhookUrl)', () => {
  it('is unset by default', () => {
    expect(SenderConfig.fromEnv(BASE).values.SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL).toBeUndefined();
  });

  it('takes an http(s) URL as given, credentials included, and never shows it', () => {
    const url = `https://ops:${SECRET}@pool.example.com/orchestrators?token=${SECRET}`;
    const config = SenderConfig.fromEnv({ ...BASE, SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: ` ${url} ` });
    expect(config.values.SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL).toBe(url);
    expect(config.redacted().SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL).toBe('[redacted]');
    expect(
      SenderConfig.fromEnv({ ...BASE, SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: 'http://127.0.0.1:9000/o' })
        .values.SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL,
    ).toBe('http://127.0.0.1:9000/o');
  });

  it('refuses what is not an http(s) URL, without echoing it', () => {
    for (const [raw, why] of [
      [`pool.example.com/orchestrators?token=${SECRET}`, 'expected a URL'],
      [`ftp://ops:${SECRET}@pool.example.com/orchestrators`, 'expected a http or https URL'],
    ]) {
      const err = configError(() =>
        SenderConfig.fromEnv({ ...BASE, SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL: raw }),
      );
      expect(err.problems).toEqual([`SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL is invalid: ${why}`]);
      expect(err.message).not.toContain(SECRET);
    }
  });
});
