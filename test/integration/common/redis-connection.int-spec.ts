import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { UNANSWERED_COMMAND, createRedisConnection } from '#app/common';
import { startRedisFaultProxy, type RedisFaultProxy } from '../../support/redis-fault-proxy.js';

/**
 * A service's Redis connection when the link drops between a command's run and its reply: the
 * command is not sent again once the connection is back (it ran: a second run would apply a
 * non-idempotent write twice); its caller gets UNANSWERED_COMMAND, and the connection goes on.
 */
describe('createRedisConnection, a reply lost with its connection', () => {
  const prefix = `${inject('redisPrefix')}redis-connection:`;
  let proxy: RedisFaultProxy;
  const opened: Redis[] = [];
  const connect = (options: { resendUnanswered?: boolean } = {}) => {
    const redis = createRedisConnection({ url: proxy.url, prefix, connectionName: 'test', ...options });
    opened.push(redis);
    return redis;
  };

  beforeAll(async () => {
    proxy = await startRedisFaultProxy(inject('redisUrl'));
  });
  afterAll(async () => {
    for (const redis of opened) await redis.quit();
    await proxy?.stop();
  });

  it('fails the command as unanswered and does not run it again', async () => {
    const redis = connect();
    await redis.set('counter', '0');
    const lost = proxy.cutReplyTo('incrby');
    await expect(redis.incrby('counter', 5)).rejects.toThrow(UNANSWERED_COMMAND);
    await lost;
    expect(await redis.get('counter')).toBe('5');
    expect(await redis.incrby('counter', 1)).toBe(6);
  });

  it('with resendUnanswered, runs it a second time (what the default prevents)', async () => {
    const redis = connect({ resendUnanswered: true });
    await redis.set('resent', '0');
    const lost = proxy.cutReplyTo('incrby');
    expect(await redis.incrby('resent', 5)).toBe(10);
    await lost;
  });
});
