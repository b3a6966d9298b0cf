import { describe, expect, it } from 'vitest';
import { configClass } from './config-class.js';
import { ConfigError } from './config-error.js';
import { parseEnv } from './env-schema.js';
import { INFRA_ENV, L1_BLOCK_TIME_ENV } from './infra-env.js';
import { address, bool, hostPort, int, uint, url } from './parsers.js';

const CONTROLLER = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

describe('parseEnv', () => {
  it('applies defaults and parses given values', () => {
    const env = parseEnv(INFRA_ENV, { CONTROLLER_ADDRESS: CONTROLLER, REDIS_PREFIX: 'x:' });
    expect(env.CONTROLLER_ADDRESS).toBe(CONTROLLER.toLowerCase());
    expect(env.REDIS_PREFIX).toBe('x:');
    expect(env.DATABASE_URL).toMatch(/^postgres:/);
    expect(env.LOG_FORMAT).toBe('json');
  });

  it('lists every problem at once', () => {
    let caught: unknown;
    try {
      parseEnv(INFRA_ENV, { ETH_RPC_URL: 'ftp://nope', LOG_FORMAT: 'xml' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/CONTROLLER_ADDRESS is required/);
    expect(problems.join('\n')).toMatch(/LOG_FORMAT="xml" is invalid/);
    expect((caught as ConfigError).code).toBe('INVALID_CONFIG');
  });

  it('never echoes a secret value, even when it is invalid', () => {
    const secret = 'postgres-with-a-typo://user:hunter2@db/x';
    try {
      parseEnv(INFRA_ENV, { CONTROLLER_ADDRESS: CONTROLLER, DATABASE_URL: secret });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/DATABASE_URL is invalid/);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('never echoes a URL given user:password@, even in a setting not marked secret', () => {
    const schema = {
      LINKS: {
        parse: (raw: string) => raw.split(',').map(url(['http'], { credentials: 'refused' })),
        description: 'x',
      },
    };
    for (const raw of ['http://ok.example,http://ops:hunter2@x.example', 'https://ops:hunter2@x']) {
      const err = (() => {
        try {
          parseEnv(schema, { LINKS: raw });
        } catch (e) {
          return e as ConfigError;
        }
        return expect.unreachable();
      })();
      expect(err.problems).toEqual([expect.stringMatching(/^LINKS is invalid: /)]);
      expect(err.message).not.toContain('hunter2');
    }
    // Without credentials, the invalid value is still shown.
    expect(() => parseEnv(schema, { LINKS: 'ftp://x' })).toThrow(/LINKS="ftp:\/\/x" is invalid/);
  });

  it('redacts secrets when a config is shown', () => {
    class C extends configClass(INFRA_ENV) {}
    const c = C.fromEnv({ CONTROLLER_ADDRESS: CONTROLLER, REDIS_URL: 'redis://:pw@127.0.0.1:6379' });
    expect(c.redacted().REDIS_URL).toBe('[redacted]');
    expect(JSON.stringify(c.redacted())).not.toContain(':pw@');
  });
});

describe('parsers', () => {
  it('reject what they do not accept', () => {
    expect(() => int(1, 10)('0')).toThrow(/\[1, 10\]/);
    expect(() => int(1, 10)('1.5')).toThrow(/integer/);
    expect(() => uint('-1')).toThrow();
    expect(uint('115792089237316195423570985008687907853269984665640564039457584007913129639935')).toBe(
      (1n << 256n) - 1n,
    );
    expect(() => bool('maybe')).toThrow();
    expect(bool('on')).toBe(true);
    expect(() => url(['http'])('redis://x')).toThrow(/http URL/);
    expect(url(['http'])('http://u:p@x')).toBe('http://u:p@x');
    for (const withCredentials of ['http://u:p@x', 'http://u@x', 'http://:p@x'])
      expect(() => url(['http'], { credentials: 'refused' })(withCredentials)).toThrow(
        'expected a URL without user:password@ (a token has its own setting)',
      );
    expect(url(['http'], { credentials: 'refused' })('http://x/p?q=1')).toBe('http://x/p?q=1');
    expect(() => address('0x1234')).toThrow(/address/);
    expect(address('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')).toBe(
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    );
    expect(() => address('0x70997970C51812dc3A010C7d01b50e0d17dc79c8')).toThrow(/invalid EIP-55 checksum/);
    expect(hostPort('[::1]:8930')).toBe('[::1]:8930');
    expect(() => hostPort('localhost')).toThrow();
    expect(() => hostPort('a:99999')).toThrow();
  });

  it('refuses a renamed setting still set under its old name, where the new one is read', () => {
    const schema = { ETH_LOGS_MAX_BLOCKS: { parse: Number, default: 2000, description: 'span' } };
    expect(() => parseEnv(schema, { SENDER_MONITOR_LOG_CHUNK_BLOCKS: '500' })).toThrow(
      /SENDER_MONITOR_LOG_CHUNK_BLOCKS was renamed ETH_LOGS_MAX_BLOCKS/,
    );
    // A service that does not read the new name is not concerned.
    expect(
      parseEnv(INFRA_ENV, { CONTROLLER_ADDRESS: CONTROLLER, SENDER_MONITOR_LOG_CHUNK_BLOCKS: '500' }),
    ).toBeDefined();
    // The Sender's block time became the one the Sender and the Recipient read; the other
    // services do not read it and still boot with the old name set.
    const readers = { ...INFRA_ENV, ...L1_BLOCK_TIME_ENV };
    expect(() => parseEnv(readers, { CONTROLLER_ADDRESS: CONTROLLER, SENDER_L1_BLOCK_SECONDS: '2' })).toThrow(
      /SENDER_L1_BLOCK_SECONDS was renamed ETH_L1_BLOCK_SECONDS/,
    );
    expect(
      parseEnv(INFRA_ENV, { CONTROLLER_ADDRESS: CONTROLLER, SENDER_L1_BLOCK_SECONDS: '2' }),
    ).toBeDefined();
  });
});
