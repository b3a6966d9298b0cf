import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RecipientSecretRepository } from '#app/database';
import { ticketParamsCodec } from '#app/proto';
import { Rational, bytesToHex, ticketEV } from '#app/ticket';
import { paramsKey } from '../../../apps/recipient/src/nonce/redis-nonce-ledger.js';
import { RecipientSecrets } from '../../../apps/recipient/src/secret/recipient-secrets.service.js';
import {
  ALWAYS_WIN,
  errorCodeOf,
  issue,
  paymentMessage,
  ratio,
  rrHashOf,
  signBatch,
  startHarness,
  type RecipientHarness,
  type TestSender,
} from './recipient-fixture.js';

describe('Recipient: replicas, restarts and secret rotation', () => {
  let h: RecipientHarness;
  let sender: TestSender;

  beforeAll(async () => {
    h = await startHarness('recipient-replicas');
    sender = await h.newSender();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('two replicas sharing Redis and Postgres accept a duplicated ticket exactly once', async () => {
    // Booted together: both race to generate the first secret and must end up with the same one.
    const [a, b] = await Promise.all([h.boot(ALWAYS_WIN), h.boot(ALWAYS_WIN)]);
    const issued = await issue(a, sender);
    const nonces = [1, 2, 3, 4, 5];
    const payment = paymentMessage(issued, signBatch(issued, sender, nonces));
    const jobId = 'job-dup';
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).client.processPayment({ payment, jobId })),
    );
    for (const nonce of nonces) {
      const accepted = replies
        .flatMap((res) => res.tickets)
        .filter((t) => t.senderNonce === nonce && t.accepted);
      expect(accepted).toHaveLength(1);
    }
    const params = ticketParamsCodec.fromMessage(issued.ticketParams);
    const expected = ticketEV(params.faceValue, params.winProb).mul(Rational.of(BigInt(nonces.length)));
    expect(ratio((await b.client.balance({ sender: sender.address, jobId })).balance)).toBe(
      expected.toString(),
    );
    expect(await a.countWinners(bytesToHex(params.recipientRandHash))).toBe(nonces.length);
    for (const t of replies[0].tickets) expect(await a.queue.getJob(bytesToHex(t.ticketHash))).toBeTruthy();
    await Promise.all([a.close(), b.close()]);
  });

  it('outstanding params stay valid across a restart', async () => {
    const before = await h.boot();
    const issued = await issue(before, sender);
    await before.close();
    const after = await h.boot();
    const res = await after.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [1])),
      jobId: 'job-restart',
    });
    expect(res.tickets[0]).toMatchObject({ accepted: true, errorCode: '' });
    await after.close();
  });

  it('a rotated secret keeps validating the params it issued; new params use the new secret', async () => {
    const [r, peer] = await Promise.all([h.boot(), h.boot()]);
    const old = await issue(r, sender);
    const secrets = r.app.get(RecipientSecrets);
    const oldId = secrets.current().id;
    expect(await secrets.rotate()).toBe(true);
    expect(secrets.current().id).not.toBe(oldId);
    // A scheduled rotation does not replace a secret younger than its age limit.
    expect(await secrets.rotate(3_600_000)).toBe(false);

    const fresh = await issue(r, sender);
    for (const issued of [old, fresh]) {
      const res = await r.client.processPayment({
        payment: paymentMessage(issued, signBatch(issued, sender, [1])),
        jobId: 'job-rotate',
      });
      expect(res.tickets[0]).toMatchObject({ accepted: true, errorCode: '' });
    }
    // A replica that has not re-read the secrets since the rotation picks the new one up on the
    // first params it cannot verify (its reads are at most once a second).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const fromPeer = await peer.client.processPayment({
      payment: paymentMessage(fresh, signBatch(fresh, sender, [3])),
      jobId: 'job-rotate',
    });
    expect(fromPeer.tickets[0]).toMatchObject({ accepted: true });
    // Another replica, booted after the rotation, knows the retired secret too.
    const other = await h.boot();
    const res = await other.client.processPayment({
      payment: paymentMessage(old, signBatch(old, sender, [2])),
      jobId: 'job-rotate',
    });
    expect(res.tickets[0]).toMatchObject({ accepted: true });
    await Promise.all([r.close(), peer.close(), other.close()]);
  });

  it('params a stale replica issues with the retired secret past its grace window are accepted by the others', async () => {
    const [stale, fresh] = await Promise.all([h.boot(ALWAYS_WIN), h.boot(ALWAYS_WIN)]);
    // Postgres unreachable from `stale` from now on: it never learns of the rotation and keeps
    // issuing params with the secret it holds as current.
    vi.spyOn(stale.app.get(RecipientSecretRepository), 'recent').mockRejectedValue(
      new Error('Postgres unreachable'),
    );
    const retiredId = stale.app.get(RecipientSecrets).current().id;
    expect(await fresh.app.get(RecipientSecrets).rotate()).toBe(true);
    const [{ accept_until_block: acceptUntil }] = await fresh.app
      .get(DataSource)
      .query<{ accept_until_block: string }[]>(
        'SELECT accept_until_block FROM recipient_secret WHERE id = $1',
        [retiredId],
      );
    // Past the retired secret's grace blocks: params issued now expire after its accept-until block.
    await h.mine(6);
    await Promise.all([stale.refreshChain(), fresh.refreshChain()]);
    const late = await issue(stale, sender);
    expect(stale.app.get(RecipientSecrets).current().id).toBe(retiredId);
    expect(ticketParamsCodec.fromMessage(late.ticketParams).expirationBlock).toBeGreaterThan(
      BigInt(acceptUntil),
    );
    const res = await fresh.client.processPayment({
      payment: paymentMessage(late, signBatch(late, sender, [1, 2])),
      jobId: 'job-stale-replica',
    });
    expect(res.tickets.map((t) => [t.accepted, t.won, t.errorCode])).toEqual([
      [true, true, ''],
      [true, true, ''],
    ]);
    expect(await fresh.countWinners(rrHashOf(late))).toBe(2);
    // The params record names the secret that issued them: its id, never the secret itself.
    const record = await fresh.redis.hgetall(paramsKey(sender.hex, rrHashOf(late)));
    expect(Object.keys(record).sort()).toEqual(['1', '2', 'price', 'secretId']);
    expect(record.secretId).toBe(retiredId);

    const refusal = (params: Awaited<ReturnType<typeof issue>>) =>
      errorCodeOf(
        fresh.client.processPayment({
          payment: paymentMessage(params, signBatch(params, sender, [1])),
          jobId: 'job-stale-replica',
        }),
      );
    // A record naming a secret this recipient does not know (deleted, or never its own) is refused.
    const forged = await issue(stale, sender);
    await fresh.redis.hset(paramsKey(sender.hex, rrHashOf(forged)), 'secretId', '999999999');
    expect(await refusal(forged)).toBe('INVALID_RECIPIENT_RAND');
    // A record without the id (params issued before it was stored): the grace window decides, as
    // before, and these params expire after it.
    const legacy = await issue(stale, sender);
    await fresh.redis.hdel(paramsKey(sender.hex, rrHashOf(legacy)), 'secretId');
    expect(await refusal(legacy)).toBe('INVALID_RECIPIENT_RAND');
    expect(await fresh.countWinners(rrHashOf(forged))).toBe(0);
    expect(await fresh.countWinners(rrHashOf(legacy))).toBe(0);
    await Promise.all([stale.close(), fresh.close()]);
  });

  it('refuses to start with a key that does not decrypt the stored secret', async () => {
    const code = await h
      .boot({ RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex') })
      .then(() => 'booted')
      .catch((err: { code?: string }) => err.code);
    expect(code).toBe('SECRET_UNREADABLE');
  });

  it('a secret given in configuration is used as is and cannot be rotated', async () => {
    const secret = randomBytes(32).toString('hex');
    const env = { RECIPIENT_SECRET_KEY: '', RECIPIENT_SECRET: secret };
    const first = await h.boot(env);
    const issued = await issue(first, sender);
    await expect(first.app.get(RecipientSecrets).rotate()).rejects.toMatchObject({
      code: 'SECRET_ROTATION_UNSUPPORTED',
    });
    await first.close();
    const second = await h.boot(env);
    const res = await second.client.processPayment({
      payment: paymentMessage(issued, signBatch(issued, sender, [1])),
      jobId: 'job-config-secret',
    });
    expect(res.tickets[0]).toMatchObject({ accepted: true });
    await second.close();
  });
});
