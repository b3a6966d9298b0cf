import { describe, expect, it } from 'vitest';
import type { SenderInfo } from '#app/ticket';
import { SenderCache, type SenderEvent, type SenderStateReader } from './sender-cache.js';
import { WatcherErrorCode } from './watcher.error.js';

const S = '0x' + '11'.repeat(20);
const A = '0x' + 'aa'.repeat(20);
const B = '0x' + 'bb'.repeat(20);

function info(deposit: bigint, funds: bigint, claimedInRound = 0n, withdrawRound = 0n): SenderInfo {
  return {
    deposit,
    withdrawRound,
    reserve: { fundsRemaining: funds, claimedInCurrentRound: claimedInRound },
  };
}

/** A reader answering from a table, optionally held until released. */
function reader(state: SenderInfo, claimed: bigint[] = [0n, 0n]) {
  const reads: bigint[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const r: SenderStateReader & { reads: bigint[]; holdNext(): void; release(): void } = {
    reads,
    holdNext: () => (hold = true),
    release: () => release?.(),
    read: async (_sender, _claimants, block) => {
      reads.push(block);
      if (hold) {
        hold = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
      return { info: state, claimed };
    },
  };
  return r;
}

/** An event without its position, per kind. */
type EventBody = SenderEvent extends infer E
  ? E extends SenderEvent
    ? Omit<E, 'block' | 'logIndex' | 'txHash'>
    : never
  : never;

let seq = 0;
function ev(block: bigint, event: EventBody): SenderEvent {
  return { block, logIndex: seq++, txHash: '0x', ...event };
}

describe('SenderCache', () => {
  it('reads a miss at the synced block, once for concurrent misses', async () => {
    const r = reader(info(5n, 100n), [3n, 0n]);
    const cache = new SenderCache(r, [A, B], () => 10n);
    const [x, y] = await Promise.all([cache.get(S), cache.get(S.toUpperCase().replace('0X', '0x'))]);
    expect(r.reads).toEqual([10n]);
    expect(x).toEqual(y);
    expect(x.info).toEqual(info(5n, 100n));
    expect(x.claimed.get(A)).toBe(3n);
    expect(x.asOfBlock).toBe(10n);
  });

  it('refuses to read before anything is synced', async () => {
    const cache = new SenderCache(reader(info(0n, 0n)), [A], () => undefined);
    await expect(cache.get(S)).rejects.toMatchObject({ code: WatcherErrorCode.NOT_SYNCED });
  });

  it('keeps the state exact from events, as the contract moves it', async () => {
    const cache = new SenderCache(reader(info(10n, 100n), [0n, 0n]), [A, B], () => 1n);
    await cache.get(S);
    expect(cache.apply(ev(2n, { kind: 'DepositFunded', sender: S, amount: 5n }))).toEqual([S]);
    cache.apply(ev(2n, { kind: 'ReserveFunded', sender: S, amount: 20n }));
    // A 40 ticket to A: the deposit pays 15, A claims 25 from the reserve.
    cache.apply(ev(3n, { kind: 'ReserveClaimed', sender: S, claimant: A, amount: 25n }));
    cache.apply(ev(3n, { kind: 'WinningTicketTransfer', sender: S, recipient: A, amount: 40n }));
    let s = cache.peek(S)!;
    expect(s.info).toEqual(info(0n, 95n, 25n));
    expect([s.claimed.get(A), s.claimed.get(B)]).toEqual([25n, 0n]);
    // Claims by an untracked claimant still count for the round total.
    cache.apply(ev(4n, { kind: 'ReserveClaimed', sender: S, claimant: '0x' + 'cc'.repeat(20), amount: 5n }));
    expect(cache.peek(S)!.info.reserve).toEqual({ fundsRemaining: 90n, claimedInCurrentRound: 30n });

    cache.apply(ev(5n, { kind: 'Unlock', sender: S, startRound: 7n, endRound: 9n }));
    expect(cache.peek(S)!.info.withdrawRound).toBe(9n);
    cache.apply(ev(6n, { kind: 'Withdrawal', sender: S, deposit: 0n, reserve: 90n }));
    s = cache.peek(S)!;
    // withdraw() leaves withdrawRound set (TICKETBROKER.md §4.2).
    expect(s.info).toEqual(info(0n, 0n, 30n, 9n));
    cache.apply(ev(7n, { kind: 'UnlockCancelled', sender: S }));
    expect(cache.peek(S)!.info.withdrawRound).toBe(0n);
    expect(cache.peek(S)!.asOfBlock).toBe(7n);
  });

  it('a transfer the deposit covers only drains the deposit', async () => {
    const cache = new SenderCache(reader(info(100n, 50n)), [A], () => 1n);
    await cache.get(S);
    cache.apply(ev(2n, { kind: 'WinningTicketTransfer', sender: S, recipient: A, amount: 30n }));
    expect(cache.peek(S)!.info).toEqual(info(70n, 50n));
  });

  it("a new round resets every sender's claims of the round", async () => {
    const cache = new SenderCache(reader(info(0n, 80n, 20n), [20n]), [A], () => 1n);
    await cache.get(S);
    expect(cache.apply(ev(2n, { kind: 'NewRound', round: 3n, blockHash: '0x' }))).toEqual([S]);
    expect(cache.peek(S)!.info.reserve.claimedInCurrentRound).toBe(0n);
    expect(cache.peek(S)!.claimed.get(A)).toBe(0n);
    expect(cache.apply(ev(3n, { kind: 'NewRound', round: 4n, blockHash: '0x' }))).toEqual([]);
  });

  it('ignores events of senders it does not hold', () => {
    const cache = new SenderCache(reader(info(0n, 0n)), [A], () => 1n);
    expect(cache.apply(ev(2n, { kind: 'DepositFunded', sender: S, amount: 5n }))).toEqual([]);
    expect(cache.peek(S)).toBeUndefined();
  });

  it('replays events applied while a miss was being read onto its result', async () => {
    let synced = 10n;
    const r = reader(info(1n, 100n), [0n]);
    const cache = new SenderCache(r, [A], () => synced);
    r.holdNext();
    const pending = cache.get(S);
    // The watcher applies block 11 and moves on while the read at block 10 is in flight.
    cache.apply(ev(11n, { kind: 'DepositFunded', sender: S, amount: 4n }));
    cache.apply(ev(11n, { kind: 'NewRound', round: 2n, blockHash: '0x' }));
    synced = 11n;
    r.release();
    const s = await pending;
    expect(s.info.deposit).toBe(5n);
    expect(s.asOfBlock).toBe(11n);
    expect(cache.peek(S)!.info.deposit).toBe(5n);
  });

  it('a sender deleted while being read is not stored', async () => {
    const r = reader(info(1n, 1n));
    const cache = new SenderCache(r, [A], () => 1n);
    r.holdNext();
    const pending = cache.get(S);
    cache.delete(S);
    r.release();
    await pending;
    expect(cache.peek(S)).toBeUndefined();
  });

  it('re-reads every cached sender on demand (resync)', async () => {
    let state = info(1n, 1n);
    const reads: bigint[] = [];
    let synced = 1n;
    const cache = new SenderCache(
      {
        read: (_s, _c, block) => {
          reads.push(block);
          return Promise.resolve({ info: state, claimed: [0n] });
        },
      },
      [A],
      () => synced,
    );
    await cache.get(S);
    state = info(9n, 9n);
    synced = 50n;
    expect(await cache.refetchAll()).toEqual([S]);
    expect(reads).toEqual([1n, 50n]);
    expect(cache.peek(S)!.info).toEqual(info(9n, 9n));
  });
});
