import { mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther } from 'ethers';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '#app/common';
import { eventually, hashOf } from '../../integration/redeemer/redeemer-fixture.js';
import { OPS_TOKEN, startOpsStack, type OpsStack } from '../../integration/ops/ops-stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot(), 'test', 'artifacts');
const ETH = parseEther('1');
const CENTI = ETH / 100n;

/**
 * The dashboard in real headless Chromium (Debian's, installed by scripts/install-chromium.sh)
 * against a running stack: real winning tickets go in through the intake, the Redeemer redeems
 * them on anvil, and the page must show the numbers Postgres holds.
 */
describe('ops dashboard in Chromium', () => {
  let s: OpsStack;
  let browser: BrowserContext;
  let profile: string;
  let funded: string;

  beforeAll(async () => {
    statSync(CHROMIUM); // fails with ENOENT: run scripts/install-chromium.sh
    s = await startOpsStack('ops-dashboard');
    const sender = await s.fx.newSender(ETH, ETH);
    funded = sender.address.toLowerCase();
    const broke = await s.fx.newSender();
    const redeemed = [await s.fx.ticket(sender, 2n * CENTI), await s.fx.ticket(sender, 3n * CENTI)];
    const waiting = await s.fx.ticket(sender, 5n * CENTI, {
      expirationBlock: (await s.fx.blockNumber()) + 100_000n,
    });
    const unfunded = await s.fx.ticket(broke, 1n * CENTI);
    for (const t of [...redeemed, waiting, unfunded]) await s.intake.accept(t);
    for (const t of redeemed) {
      await eventually(async () => {
        const res = await fetch(`${s.opsUrl}/api/v1/tickets/${hashOf(t)}`, {
          headers: { authorization: `Bearer ${OPS_TOKEN}` },
        });
        return ((await res.json()) as { status: string }).status === 'redeemed' ? true : undefined;
      }, 'tickets redeemed');
    }
    // The unfunded sender's ticket waits with a code: a failure the dashboard lists.
    await eventually(async () => {
      const res = await fetch(`${s.opsUrl}/api/v1/failures`, {
        headers: { authorization: `Bearer ${OPS_TOKEN}` },
      });
      const { retrying } = (await res.json()) as { retrying: { code: string }[] };
      return retrying.some((f) => f.code === 'INSUFFICIENT_FUNDS') ? true : undefined;
    }, 'a retrying failure');

    profile = await mkdtemp(join(tmpdir(), 'ticketpay-chromium-'));
    // A fresh profile directory per run (persistent context = Chromium's --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await s?.stop();
  });

  it('shows the real totals, senders, charts and failures, and opens Bull Board', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${s.opsUrl}/dashboard#token=${OPS_TOKEN}`);
    await page
      .waitForSelector('body[data-updated]', { state: 'attached', timeout: 20_000 })
      .catch(async (err: Error) => {
        throw new Error(
          `${err.message}; page status: ${await page.textContent('#status', { timeout: 1_000 })}; errors: ${errors.join('; ')}`,
        );
      });

    // 2 + 3 + 5 + 1 centi-ETH won; 2 + 3 redeemed (Postgres figures, formatted exactly).
    expect(await page.textContent('#face-value-won')).toBe('0.11 ETH');
    expect(await page.textContent('#winning-count')).toBe('4 winning tickets, 2 pending');
    expect(await page.textContent('#face-value-redeemed')).toBe('0.05 ETH');
    expect(await page.textContent('#redeemed-count')).toBe('2 redeemed, paid 0.05 ETH');
    expect(await page.textContent('#ev-received')).toBe('0.11 ETH');
    expect(await page.textContent('#gas-spent')).toMatch(/^0\.\d+ ETH$|^0 ETH$/);
    expect(await page.textContent('#queue-depth')).toMatch(/^\d+$/);

    const rows = page.locator('#senders tbody tr');
    const senders: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++)
      senders.push(await rows.nth(i).locator('td').allTextContents());
    const row = senders.find((cells) => cells[0] === funded);
    expect(row).toBeDefined();
    expect(row![1]).toBe('0.95 ETH'); // deposit after paying the two redeemed tickets
    expect(row![3]).toMatch(/ETH$/); // max float from the SenderMonitor
    expect(row![4]).toBe('yes');
    expect(senders).toHaveLength(2);

    const failures = await page.locator('#failures tbody tr').allTextContents();
    expect(failures.some((f) => f.includes('INSUFFICIENT_FUNDS'))).toBe(true);

    const points = await page.getAttribute('#chart-tickets polyline[data-series="winning"]', 'points');
    expect(points?.split(' ').length).toBe(60);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'dashboard.png')).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);

    // The dashboard set the cookie Bull Board's page load is authorised by.
    await page.goto(`${s.opsUrl}/queues`);
    await page.waitForSelector('text=ticket-redemption', { timeout: 20_000 });
    // Its own API calls (under /queues/api) are authorised by the same cookie.
    await page.waitForFunction("!document.body.innerText.includes('Loading')", undefined, {
      timeout: 20_000,
    });
    await page.screenshot({ path: join(ARTIFACTS, 'queues.png') });
    await page.close();
  });
});
