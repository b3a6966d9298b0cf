import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight.js';
import { byTimeLeft, fundsLeftFor, splitByGas, txGasCap, unpaidInTx } from './redemption-batcher.js';

describe('splitByGas', () => {
  const items = (...gas: number[]) => gas.map((g, i) => ({ i, gas: BigInt(g) }));
  const indexes = (txs: { i: number }[][]) => txs.map((tx) => tx.map((t) => t.i));

  it('keeps a group in one tx while its gas limit (the sum of the allowances) fits', () => {
    // 4 × 100k = 400k: exactly the cap.
    expect(indexes(splitByGas(items(100_000, 100_000, 100_000, 100_000), 400_000n))).toEqual([[0, 1, 2, 3]]);
  });

  it('splits a group over the cap into consecutive txs, none over it, order kept', () => {
    const txs = splitByGas(items(100_000, 100_000, 100_000, 100_000, 100_000), 350_000n);
    expect(indexes(txs)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    for (const tx of txs) expect(tx.reduce((s, t) => s + t.gas, 0n)).toBeLessThanOrEqual(350_000n);
  });

  it('sends a ticket over the cap on its own, and nothing for no ticket', () => {
    expect(indexes(splitByGas(items(50_000, 900_000, 50_000), 400_000n))).toEqual([[0], [1], [2]]);
    expect(splitByGas([], 400_000n)).toEqual([]);
  });
});

describe('txGasCap', () => {
  it('is a fifth of the block, room for 8 tickets at least, half the block at most', () => {
    // 30M blocks, 240k a ticket: 6M (25 tickets), a block fills past 24M.
    expect(txGasCap(30_000_000n, 240_000n)).toBe(6_000_000n);
    // 5M blocks: 8 tickets (1.92M) rather than a fifth (4 tickets).
    expect(txGasCap(5_000_000n, 240_000n)).toBe(1_920_000n);
    // A small block: never over half of it.
    expect(txGasCap(2_000_000n, 240_000n)).toBe(1_000_000n);
    // Arbitrum's artificial 2^50 block, or a 300M one: never over 2^24 (EIP-7825).
    expect(txGasCap(2n ** 50n, 240_000n)).toBe(16_777_216n);
    expect(txGasCap(300_000_000n, 240_000n)).toBe(16_777_216n);
  });
});

describe('byTimeLeft', () => {
  it('orders by creation round (the oldest expires first), then by arrival', () => {
    const t = (name: string, creationRound: bigint, at: number) => ({
      name,
      row: { creationRound, createdAt: new Date(at) },
    });
    const sorted = [t('new', 12n, 1), t('old-late', 10n, 9), t('mid', 11n, 0), t('old-early', 10n, 5)].sort(
      byTimeLeft,
    );
    expect(sorted.map((x) => x.name)).toEqual(['old-early', 'old-late', 'mid', 'new']);
  });
});

describe('unpaidInTx', () => {
  const SENDER = '0xsender';
  const RECIPIENT = '0xrecipient';
  const ticket = (ticketHash: string, faceValue: bigint, recipient = RECIPIENT) => ({
    ticketHash,
    sender: SENDER,
    recipient,
    faceValue,
  });

  it('counts a ticket whose hold ends while the chain is asked about the others', async () => {
    // A settlement run of a previous holder's still pending tx holds its ticket, then lets go while
    // the funds check waits on the chain: the ticket must still count against the sender's funds.
    const inFlight = new InFlight();
    const adopted = ticket('0xa', 6n);
    inFlight.hold('tx:1', [adopted]);
    const unpaid = await unpaidInTx([adopted, ticket('0xb', 3n)], inFlight, () => {
      inFlight.release('tx:1');
      return Promise.resolve(false);
    });
    expect(inFlight.committed(SENDER, RECIPIENT, 'flush', unpaid)).toEqual({ own: 9n, others: 0n });
  });

  it('leaves out a ticket the chain says is used, and counts a held one once', async () => {
    const inFlight = new InFlight();
    const held = ticket('0xa', 6n);
    inFlight.hold('tx:1', [held]);
    const asked: string[] = [];
    const unpaid = await unpaidInTx([held, ticket('0xb', 3n), ticket('0xc', 1n)], inFlight, (hash) => {
      asked.push(hash);
      return Promise.resolve(hash === '0xb');
    });
    expect(asked).toEqual(['0xb', '0xc']);
    expect(unpaid.map((t) => t.ticketHash)).toEqual(['0xa', '0xc']);
    expect(inFlight.committed(SENDER, RECIPIENT, 'flush', unpaid)).toEqual({ own: 7n, others: 0n });
  });

  it("splits a sender's tickets in flight between one recipient and the others", () => {
    const inFlight = new InFlight();
    inFlight.hold('tx:1', [ticket('0xa', 6n), ticket('0xb', 2n, '0xother')]);
    expect(inFlight.committed(SENDER, RECIPIENT, 'flush', [ticket('0xc', 1n, '0xthird')])).toEqual({
      own: 6n,
      others: 3n,
    });
  });
});

describe('fundsLeftFor', () => {
  // Deposit 10, this recipient's reserve share 4.
  const funds = { deposit: 10n, available: 14n };
  it("takes other recipients' tickets from the deposit only, never from this recipient's share", () => {
    expect(fundsLeftFor(funds, 0n)).toBe(14n);
    expect(fundsLeftFor(funds, 7n)).toBe(7n);
    expect(fundsLeftFor(funds, 10n)).toBe(4n);
    expect(fundsLeftFor(funds, 25n)).toBe(4n);
  });
});
