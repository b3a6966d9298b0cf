import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { parseEther } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bootstrapService } from '#app/common';
import { WinningTicketStatus } from '#app/database';
import { WinningTicketIntake } from '#app/queue';
import { RedeemerConfig } from '../../../apps/redeemer/src/redeemer.config.js';
import { RedeemerLifecycle } from '../../../apps/redeemer/src/redeemer.lifecycle.js';
import { RedeemerModule } from '../../../apps/redeemer/src/redeemer.module.js';
import { privateDatabase, type PrivateDatabase } from '../../support/private-database.js';
import {
  eventually,
  hashOf,
  redeemerTestEnv,
  startRedeemerChain,
  type RedeemerChainFixture,
} from '../redeemer/redeemer-fixture.js';
import { redisSnapshot, Tally } from './fuzz-kit.js';
import { runAll } from './run-all.js';

const SEED = 0x4ed3;
const TOKEN = 'fuzz-redeemer-ops-token-0123456789';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

interface Req {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  authorization?: string;
}

/** JSON values an attacker would put in an amount or an address field. */
const hostileValue = fc.oneof(
  fc.bigInt(-(1n << 300n), 1n << 300n).map(String),
  fc.constantFrom('', '0', '-1', '1', '01', '1e18', '0x10', '1.5', ' 1', '9'.repeat(78), '9'.repeat(79)),
  fc.string({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 30 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
);

/** Bodies: JSON objects with the known fields set to anything, other JSON, and non-JSON text. */
const body = (fields: string[]) =>
  fc.oneof(
    fc
      .record(Object.fromEntries(fields.map((f) => [f, fc.option(hostileValue, { nil: undefined })])))
      .map((o) => JSON.stringify(o)),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 120 }),
    fc.constantFrom('', '{', '{"amount":', 'null', '[]', '"x"', '{"__proto__":{"amount":"1"}}'),
  );

/** Path segments in place of a ticket hash: garbage, near-misses of 0x+64 hex, traversal. */
const hashSegment = (known: string[]) =>
  fc.oneof(
    fc.string({ maxLength: 80 }).map((s) => encodeURIComponent(s) || 'x'),
    fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
    fc.constantFrom(...known, ...known.map((h) => h.toUpperCase()), ...known.map((h) => h.slice(2))),
    fc.constantFrom('..%2F..%2Fstatus', '%00', '0x' + 'g'.repeat(64), '0X' + 'a'.repeat(64)),
  );

const redeemRequest = (known: string[]): fc.Arbitrary<Req> =>
  fc
    .record({
      hash: fc.oneof({ arbitrary: hashSegment(known), weight: 3 }, fc.constantFrom(...known)),
      body: body(['ignoreGasLimits']),
    })
    .map(({ hash, body }) => ({ method: 'POST', path: `/ops/tickets/${hash}/redeem`, body }));

const withdrawRequest: fc.Arbitrary<Req> = fc
  .oneof(
    body(['amount', 'to']),
    fc.record({ amount: hostileValue, to: hostileValue }).map((b) => JSON.stringify(b)),
  )
  .map((b) => ({ method: 'POST', path: '/ops/fees/withdraw', body: b }));

/** Known paths with the wrong method, and paths next to the real ones. */
const strayRequest: fc.Arbitrary<Req> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    path: fc.oneof(
      fc.constantFrom(
        '/ops/status',
        '/ops/fees/withdraw',
        `/ops/tickets/0x${'ab'.repeat(32)}/redeem`,
        '/ops',
        '/ops/',
        '/ops/tickets',
        '/ops/status/x',
        '/ops/fees',
      ),
      fc.string({ maxLength: 40 }).map((s) => `/ops/${encodeURIComponent(s)}`),
    ),
    body: fc.constantFrom(undefined, '{}', '{"amount":"1"}'),
  })
  .filter(
    (r) =>
      !(r.method === 'GET' && r.path === '/ops/status') &&
      !(r.method === 'POST' && /^\/ops\/(fees\/withdraw|tickets\/[^/]+\/redeem)$/.test(r.path)),
  )
  .map((r) => ({ ...r, body: r.method === 'GET' ? undefined : r.body }));

describe('fuzz: Redeemer /ops HTTP', () => {
  let fx: RedeemerChainFixture;
  let database: PrivateDatabase;
  let db: pg.Client;
  let app: INestApplication;
  let url: string;
  let prefix: string;
  let known: string[];
  const tally = new Tally('redeemer-ops');

  beforeAll(async () => {
    fx = await startRedeemerChain();
    database = await privateDatabase('fuzz-redeemer-ops');
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    prefix = `${inject('redisPrefix')}fuzz-redeemer-ops:`;
    app = await bootstrapService({
      name: 'redeemer',
      module: RedeemerModule.forRoot(
        RedeemerConfig.fromEnv({
          DATABASE_URL: database.url,
          REDIS_URL: inject('redisUrl'),
          REDIS_PREFIX: prefix,
          ETH_RPC_URL: fx.anvil.url,
          ...redeemerTestEnv(fx),
          REDEEMER_BATCH_WINDOW_MS: '200',
          REDEEMER_OPS_TOKEN: TOKEN,
        }),
      ),
      logger: new ConsoleLogger('test', { logLevels: ['fatal'] }),
      http: { host: '127.0.0.1', port: 0 },
      exitOnSignals: false,
    });
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    await app.get(RedeemerLifecycle).whenActive();
    // One stored ticket that is final (expired): redeeming it is refused, so no case may move it.
    const sender = await fx.newSender(parseEther('1'));
    const expired = await fx.ticket(sender, parseEther('0.01'));
    await fx.nextRound();
    await fx.nextRound();
    await app.get(WinningTicketIntake).accept(expired);
    known = [hashOf(expired)];
    await eventually(async () => {
      const r = await db.query<{ status: WinningTicketStatus }>(
        'SELECT status FROM winning_ticket WHERE ticket_hash = $1',
        [known[0]],
      );
      return r.rows[0]?.status === WinningTicketStatus.EXPIRED ? true : undefined;
    }, 'the fixture ticket to expire');
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await database?.drop();
    await fx?.stop();
  });

  async function send(r: Req) {
    const headers: Record<string, string> = { 'content-type': r.contentType ?? 'application/json' };
    const authorization = r.authorization ?? `Bearer ${TOKEN}`;
    if (authorization !== '') headers.authorization = authorization;
    const res = await fetch(`${url}${r.path}`, { method: r.method, headers, body: r.body });
    return { status: res.status, text: await res.text() };
  }

  /** A coded 4xx, or a 2xx answer; never a 5xx or an error without `{code}`. */
  function check(endpoint: string, res: { status: number; text: string }): void {
    tally.add(endpoint);
    let code: unknown;
    try {
      code = (JSON.parse(res.text) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    tally.outcome(endpoint, `${res.status}${typeof code === 'string' ? `:${code}` : ''}`);
    // No answer, however it came about, may carry the signer's key or the token.
    const text = res.text.toLowerCase();
    if (text.includes(fx.recipient.privateKey.slice(2).toLowerCase()) || text.includes(TOKEN.toLowerCase()))
      tally.fail(endpoint, `${res.status} answer carries a secret`);
    if (res.status >= 500) tally.fail(endpoint, `${res.status} ${res.text.slice(0, 200)}`);
    else if (res.status >= 400 && typeof code !== 'string')
      tally.fail(endpoint, `${res.status} without a code: ${res.text.slice(0, 200)}`);
  }

  /** Everything an /ops call could change: tickets, redemptions, chain txs, the signer's nonce. */
  const state = async () => {
    const q = async (sql: string) => (await db.query<{ s: string | null }>(sql)).rows[0].s;
    return {
      tickets: await q(
        `SELECT md5(string_agg(ticket_hash || status || coalesce(status_reason, ''), ',' ORDER BY ticket_hash)) AS s FROM winning_ticket`,
      ),
      redemptions: await q(`SELECT count(*)::text AS s FROM redemption`),
      txs: await q(`SELECT md5(string_agg(id::text || status, ',' ORDER BY id)) AS s FROM chain_tx`),
      nonce: String(await fx.provider.send('eth_getTransactionCount', [fx.recipient.address, 'latest'])),
      fees: String(await fx.fees()),
      // BullMQ's own bookkeeping (stalled checks, worker markers) comes and goes; the jobs do not.
      jobs: [...(await redisSnapshot(inject('redisUrl'), prefix))]
        .filter(([k]) => !/stalled-check|:marker$|:meta$|:events$/.test(k))
        .sort(([a], [b]) => a.localeCompare(b)),
    };
  };

  it('hostile paths, bodies and methods: coded 4xx, nothing changes', async () => {
    const before = await state();
    await runAll(fc.sample(redeemRequest(known), { numRuns: 900, seed: SEED }), async (r) =>
      check('POST /ops/tickets/:x/redeem', await send(r)),
    );
    await runAll(fc.sample(withdrawRequest, { numRuns: 900, seed: SEED + 3 }), async (r) =>
      check('POST /ops/fees/withdraw', await send(r)),
    );
    const queries = fc.sample(fc.string({ maxLength: 60 }), { numRuns: 200, seed: SEED + 4 });
    await runAll(queries, async (q) => {
      const res = await send({
        method: 'GET',
        path: `/ops/status?${encodeURIComponent(q)}=${encodeURIComponent(q)}`,
      });
      check('GET /ops/status', res);
      expect(res.status).toBe(200);
    });
    await runAll(fc.sample(strayRequest, { numRuns: 400, seed: SEED + 5 }), async (r) => {
      const res = await send(r);
      check('/ops/* (wrong method or no such route)', res);
      expect(res.status).toBe(404);
    });
    // Bodies that are not JSON at all, sent as JSON or as something else.
    const odd = fc.sample(
      fc.record({
        path: fc.constantFrom('/ops/fees/withdraw', `/ops/tickets/${known[0]}/redeem`),
        contentType: fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          '',
        ),
        body: fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
      }),
      { numRuns: 300, seed: SEED + 1 },
    );
    await runAll(odd, async (r) =>
      check(
        `POST ${r.path.startsWith('/ops/tickets') ? '/ops/tickets/:x/redeem' : r.path} (odd body)`,
        await send({ ...r, method: 'POST' }),
      ),
    );
    // A body far over any sensible size is refused before it is parsed.
    const huge = await send({
      method: 'POST',
      path: '/ops/fees/withdraw',
      body: JSON.stringify({ to: 'a'.repeat(4 << 20) }),
    });
    check('POST /ops/fees/withdraw (4 MiB body)', huge);
    expect(huge.status).toBe(413);
    expect(await state()).toEqual(before);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 120_000);

  it('missing and wrong tokens: 401 with a code on every route, nothing changes', async () => {
    const before = await state();
    const tokens = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 80 }).map((t) => `Bearer ${t}`),
      fc.string({ maxLength: 80 }),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        `bearer ${TOKEN}`,
        `Bearer  ${TOKEN}`,
        `Bearer ${TOKEN} `,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
        TOKEN,
      ),
    );
    const cases = fc.sample(
      fc.record({
        authorization: tokens.map((t) => t.replace(/[^\x20-\x7e]/g, '')),
        route: fc.constantFrom(
          { method: 'GET', path: '/ops/status' },
          { method: 'POST', path: '/ops/fees/withdraw', body: '{}' },
          { method: 'POST', path: `/ops/tickets/${known[0]}/redeem`, body: '{}' },
        ),
      }),
      { numRuns: 700, seed: SEED + 2 },
    );
    await runAll(cases, async ({ authorization, route }) => {
      // The scheme in any case and any spacing before the token (RFC 7235); fetch trims values.
      const authorized = new RegExp(`^bearer\\s+${TOKEN}\\s*$`, 'i').test(authorization.trim());
      const res = await send({ ...route, authorization: authorization === '' ? '' : authorization });
      check(`${route.method} ${route.path.replace(/0x[0-9a-f]{64}/, ':x')} (wrong token)`, res);
      if (!authorized) expect(res.status).toBe(401);
    });
    expect(await state()).toEqual(before);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 120_000);

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(3_000);
  });
});
