import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPS_TOKEN, startOpsStack, type OpsStack } from '../ops/ops-stack.js';
import { Tally } from './fuzz-kit.js';
import { runAll } from './run-all.js';

const SEED = 0x0f5;

/** Query values an attacker would try: garbage, numbers out of range, addresses of every length. */
const value = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.integer().map(String),
  fc.bigInt(-(1n << 80n), 1n << 80n).map(String),
  fc.uint8Array({ maxLength: 40 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.constantFrom('', '-1', '0', '1e9', 'NaN', 'received', 'redeemed,failed', '1h', '0s', '99999d'),
);

const query = (keys: string[]) =>
  fc.record(Object.fromEntries(keys.map((k) => [k, fc.option(value, { nil: undefined })]))).map((q) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
    return `?${params.toString()}`;
  });

const segment = value.map((v) => encodeURIComponent(v) || 'x');

const request = fc.oneof(
  query(['status', 'sender', 'recipient', 'limit', 'offset']).map((q) => ({
    method: 'GET',
    path: `/api/v1/tickets${q}`,
  })),
  query(['sender', 'recipient', 'limit', 'offset']).map((q) => ({
    method: 'GET',
    path: `/api/v1/redemptions${q}`,
  })),
  segment.map((s) => ({ method: 'GET', path: `/api/v1/tickets/${s}` })),
  segment.map((s) => ({ method: 'GET', path: `/api/v1/senders/${s}` })),
  query(['recipient']).map((q) => ({ method: 'GET', path: `/api/v1/totals${q}` })),
  query(['window', 'bucket', 'recipient']).map((q) => ({ method: 'GET', path: `/api/v1/timeseries${q}` })),
  query(['window', 'limit']).map((q) => ({ method: 'GET', path: `/api/v1/failures${q}` })),
  fc
    .record({ hash: segment, body: fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 200 })) })
    .map(({ hash, body }) => ({ method: 'POST', path: `/api/v1/tickets/${hash}/redeem`, body })),
);

/** The public static files: anything else named in a path (traversal included) is a 404. */
const SERVED = new Set([
  'dashboard.js',
  'dashboard.css',
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-32x32.png',
]);

const fileSegment = fc.oneof(
  segment,
  fc.constantFrom(
    ...SERVED,
    'index.html',
    '..%2F..%2F..%2Fpackage.json',
    '..%2Fdashboard.controller.ts',
    '%2e%2e%2f%2e%2e%2fpackage.json',
    '..%5C..%5Cpackage.json',
    'dashboard.js%00.png',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'package.json',
  ),
);

/** Routes the first set does not reach: the list endpoints, the static files, wrong methods. */
const otherRequest = fc.oneof(
  query(['limit', 'offset']).map((q) => ({ method: 'GET', path: `/api/v1/senders${q}` })),
  query(['limit', 'window', 'x']).map((q) => ({ method: 'GET', path: `/api/v1/queue${q}` })),
  fileSegment.map((f) => ({ method: 'GET', path: `/dashboard/${f}` })),
  fileSegment.map((f) => ({ method: 'GET', path: `/docs/assets/${f}` })),
  fc
    .constantFrom('/', '/dashboard', '/docs', '/docs/init.js', '/docs/openapi.json', '/docs-json')
    .map((path) => ({
      method: 'GET',
      path,
    })),
  fc
    .record({
      method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
      path: fc.constantFrom(
        '/api/v1/totals',
        '/api/v1/tickets',
        `/api/v1/tickets/0x${'1'.repeat(64)}`,
        '/api/v1/senders',
        '/api/v1/queue',
        '/api/v1/failures',
        '/dashboard',
        '/docs/openapi.json',
      ),
    })
    .map((r) => ({ ...r, body: '{}' })),
);

const endpointOf = (method: string, path: string) =>
  `${method} ${path
    .split('?')[0]
    .replace(/\/api\/v1\/(tickets|senders)\/[^/]+/, '/api/v1/$1/:x')
    .replace(/^\/(dashboard|docs\/assets)\/.+$/, '/$1/:file')}`;

describe('fuzz: ops HTTP API', () => {
  let stack: OpsStack;
  let db: pg.Client;
  const tally = new Tally('ops');

  beforeAll(async () => {
    stack = await startOpsStack('fuzz-ops');
    db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const rowState = async () =>
    (
      await db.query<{ s: string }>(
        `SELECT md5(string_agg(ticket_hash || status, ',' ORDER BY ticket_hash)) AS s FROM winning_ticket`,
      )
    ).rows[0].s;

  async function send(req: { method: string; path: string; body?: string }, token = OPS_TOKEN) {
    const res = await fetch(`${stack.opsUrl}${req.path}`, {
      method: req.method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: req.body,
    });
    return { status: res.status, text: await res.text() };
  }

  function check(endpoint: string, res: { status: number; text: string }): void {
    tally.add(endpoint);
    tally.outcome(endpoint, String(res.status));
    if (res.status >= 500) tally.fail(endpoint, `${res.status} ${res.text.slice(0, 200)}`);
    else if (res.status >= 400) {
      let code: unknown;
      try {
        code = (JSON.parse(res.text) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      if (typeof code !== 'string')
        tally.fail(endpoint, `${res.status} without a code: ${res.text.slice(0, 200)}`);
    }
  }

  it('hostile queries, paths and bodies: coded 4xx or valid answers, nothing changes', async () => {
    const before = await rowState();
    const cases = fc.sample(request, { numRuns: 2500, seed: SEED });
    await runAll(cases, async (req) => {
      const body = req.method === 'POST' ? JSON.stringify((req as { body: unknown }).body) : undefined;
      check(endpointOf(req.method, req.path), await send({ ...req, body }));
    });
    const others = fc.sample(otherRequest, { numRuns: 1200, seed: SEED + 2 });
    await runAll(others, async (req) => {
      const res = await send(req);
      const label =
        req.method !== 'GET'
          ? 'wrong method on a GET route'
          : /^\/(dashboard|docs(\/init\.js|\/openapi\.json|-json)?)?$/.test(req.path)
            ? 'GET /, /dashboard, /docs, /docs/init.js, /docs/openapi.json'
            : endpointOf(req.method, req.path);
      check(label, res);
      const file = /^\/(?:dashboard|docs\/assets)\/(.+)$/.exec(req.path)?.[1];
      if (file !== undefined && res.status === 200)
        expect(SERVED.has(decodeURIComponent(file)), file).toBe(true);
      if (req.method !== 'GET') expect(res.status, `${req.method} ${req.path}`).toBe(404);
    });
    const tokens = fc.sample(fc.string({ maxLength: 60 }), { numRuns: 300, seed: SEED + 1 });
    await runAll(tokens, async (token) => {
      const res = await send({ method: 'GET', path: '/api/v1/totals' }, token.replace(/[^\x20-\x7e]/g, ''));
      check('GET /api/v1/totals (wrong token)', res);
      expect(res.status).toBe(401);
    });
    // A body far over any sensible size is refused before it is parsed.
    const huge = await send({
      method: 'POST',
      path: `/api/v1/tickets/0x${'1'.repeat(64)}/redeem`,
      body: JSON.stringify({ x: 'a'.repeat(4 << 20) }),
    });
    check('POST /api/v1/tickets/:x/redeem (4 MiB body)', huge);
    expect(huge.status).toBe(413);
    expect(await rowState()).toBe(before);
    expect((await fetch(`${stack.opsUrl}/health`)).status).toBe(200);
  }, 120_000);

  it('reports the cases tried', () => {
    tally.report();
    expect(tally.total()).toBeGreaterThan(3_500);
  });
});
