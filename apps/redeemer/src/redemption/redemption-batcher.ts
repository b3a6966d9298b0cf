import { Injectable, Logger } from '@nestjs/common';
import { safeErrorMessage } from '#app/core';
import {
  ChainErrorCode,
  ChainTxError,
  REDEMPTION_TX_PURPOSES,
  TxManager,
  TxMaybeStoredError,
  classifyChainError,
  roundMayEndBeforeMined,
  type ChainHead,
  type RedemptionCalls,
  type SenderFunds,
  type Simulation,
} from '#app/chain';
import {
  RedemptionRepository,
  SenderFundsTimeout,
  SignerLease,
  WinningTicketRepository,
  type WinningTicketEntity,
} from '#app/database';
import { inLastValidRound, isSenderLocked, lastValidCreationRound } from '#app/ticket';
import { RedeemerMetrics } from '../metrics/redeemer.metrics.js';
import { RedeemerConfig } from '../redeemer.config.js';
import { BlockSpace } from './block-space.js';
import { gasCostWait } from './gas-cost.js';
import { InFlight, type HeldTicket } from './in-flight.js';
import { RedeemerChain } from './redeemer-chain.js';
import { RedemptionGas, checkLimit, gasAllowance } from './redemption-gas.js';
import { RedemptionCode, retry, verdictForRevert, wait, type Verdict } from './redemption-code.js';
import { RoundEndMargin } from './round-end-margin.js';
import { SettlementService } from './settlement.service.js';

/**
 * What became of a ticket handed to the batcher: claimed for a tx about to be sent (from then on
 * the batcher and the tx's settlement carry it: see `send`), or why it is not.
 */
export type BatchOutcome = { kind: 'claimed' } | { kind: 'verdict'; verdict: Verdict };

interface Entry {
  row: WinningTicketEntity;
  /** Redeem even if the gas price or tx cost is above the configured limits (operator's "redeem now"). */
  ignoreGasLimits: boolean;
  promise: Promise<BatchOutcome>;
  resolve: (outcome: BatchOutcome) => void;
}

interface Candidate {
  entry: Entry;
  /** What its redemption alone needs, as simulated (what its cost is judged on). */
  needs: bigint;
  /** Its share of the tx gas limit: gasAllowance of `needs`. */
  gas: bigint;
  /** Its single-ticket calldata, as simulated (sent as is when it goes alone). */
  data: string;
}

/** A group after its simulations: the tickets still in the running, and the chain facts they were judged on. */
interface Simulated {
  candidates: Candidate[];
  currentRound: bigint;
  /** TicketBroker.ticketValidityPeriod: which tickets are in their last valid round (lastRound). */
  validity: bigint;
  gasPrice: bigint;
  blockGasLimit: bigint;
}

/** Whether the ticket's last valid round is the one `s` was judged in: held now, it expires. */
const lastRound = (row: WinningTicketEntity, s: Pick<Simulated, 'currentRound' | 'validity'>): boolean =>
  inLastValidRound(row.creationRound, s.validity, s.currentRound);

/**
 * The gas limit one redemption tx may ask for; a larger group is split. A block builder takes a
 * tx only while the gas left in the block covers its whole limit, and a batch uses a third to a
 * quarter of its limit (each ticket brings twice a single redemption's gas: RedemptionGas), so a
 * block of this signer's txs stops filling once less than one tx's limit is left: with a cap of a
 * share c of the block it carries about (1 − c) of the block's gas (at half the block, 30M blocks
 * carried 18M). Each tx also costs the signer one turn of its send queue (a nonce at a time: an
 * insert, a hook and a broadcast, ~50 ms here, more against a remote node) and about ten SQL
 * statements, whatever its size. A fifth of the block (e2e at 1 in 10: 22 tickets a tx instead of
 * 11.5 at a tenth, half the txs, the send queue's wait 1.0 s instead of 1.6 s, 1.2 commits a
 * winner instead of 1.5–1.7), but room for at least MIN_TICKETS_PER_TX tickets, whose txs share
 * the fixed cost (measured: 73k gas a ticket at 4, 62k at 12, 60k at 16); never more than half the
 * block (one tx must leave room for others), nor than MAX_TX_GAS.
 */
export function txGasCap(blockGasLimit: bigint, allowance: bigint): bigint {
  let cap = blockGasLimit / 5n;
  if (allowance * MIN_TICKETS_PER_TX > cap) cap = allowance * MIN_TICKETS_PER_TX;
  if (cap > blockGasLimit / 2n) cap = blockGasLimit / 2n;
  return cap < MAX_TX_GAS ? cap : MAX_TX_GAS;
}
const MIN_TICKETS_PER_TX = 8n;
/**
 * Most gas one tx may ask for whatever the block's reported limit: Ethereum refuses more since
 * EIP-7825 (2^24), and Arbitrum's block headers report an artificial 2^50 while its execution
 * limit is 32M.
 */
export const MAX_TX_GAS = 2n ** 24n;

/**
 * Gathers tickets that passed the cheap checks (params expired, still valid, round initialized,
 * gas price) per recipient for a short window, then, one group at a time: each ticket is
 * simulated on its own (its revert reason decides it: a used ticket fails there, without a tx)
 * and must cost at most faceValue × ratio; each sender's remaining tickets are funded in arrival
 * order while deposit + min(reserve, claimable), less the face value of its tickets already in
 * flight, covers them (the rest wait — behind the sender's own txs when those hold the funds —
 * without holding anyone else up); the survivors are claimed (queued → submitting) and sent as
 * `redeemWinningTicket` or `batchRedeemWinningTickets`, split so that no tx asks for more than
 * txGasCap (a fifth of the block, room for 8 tickets at least), once the chain has room for them
 * (BlockSpace: while this signer's unmined txs are expected to use a block of gas, groups wait
 * before their funds check and claim) — unless the round is about to end by then (the gate's
 * rule, checked again at the latest head: the batch window may have crossed into the round's last
 * blocks). Only the funds check and claim are serialized (funds checks never interleave): groups
 * are simulated side by side, a group's txs are signed and broadcast while the next group is
 * checked, and a signer has as many txs in flight as there are groups.
 */
@Injectable()
export class RedemptionBatcher {
  private readonly logger = new Logger(RedemptionBatcher.name);
  private readonly pending = new Map<string, Entry>();
  private readonly groups = new Map<string, Entry[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private flushing: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly config: RedeemerConfig,
    private readonly chain: RedeemerChain,
    private readonly txs: TxManager,
    private readonly tickets: WinningTicketRepository,
    private readonly redemptions: RedemptionRepository,
    private readonly inFlight: InFlight,
    private readonly settlement: SettlementService,
    private readonly metrics: RedeemerMetrics,
    private readonly gas: RedemptionGas,
    private readonly margin: RoundEndMargin,
    private readonly lease: SignerLease,
    private readonly space: BlockSpace,
  ) {}

  /** Resolves when the ticket is in a sent tx, or with why it is not (wait, retry, final). */
  submit(row: WinningTicketEntity, ignoreGasLimits: boolean): Promise<BatchOutcome> {
    const existing = this.pending.get(row.ticketHash);
    if (existing) return existing.promise;
    if (this.stopped || this.inFlight.ticketBusy(row.ticketHash)) {
      return Promise.resolve(verdict(wait(RedemptionCode.IN_PROGRESS)));
    }

    let resolve!: (o: BatchOutcome) => void;
    const promise = new Promise<BatchOutcome>((r) => (resolve = r));
    const entry: Entry = {
      row,
      ignoreGasLimits,
      promise,
      resolve: (o) => {
        // Answered twice (a failed group answers all it took): never drops a newer entry.
        if (this.pending.get(row.ticketHash) === entry) this.pending.delete(row.ticketHash);
        resolve(o);
      },
    };
    this.pending.set(row.ticketHash, entry);
    const group = this.groups.get(row.recipient) ?? [];
    group.push(entry);
    this.groups.set(row.recipient, group);
    this.schedule(row.recipient, group.length >= this.config.values.REDEEMER_BATCH_MAX_SIZE);
    return promise;
  }

  /** Answers every waiting ticket with IN_PROGRESS (their jobs come back later) and takes no more. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const group of this.groups.values()) {
      for (const e of group) e.resolve(verdict(wait(RedemptionCode.IN_PROGRESS)));
    }
    this.groups.clear();
  }

  private schedule(recipient: string, now: boolean): void {
    const window = this.config.values.REDEEMER_BATCH_WINDOW_MS;
    if (this.timers.has(recipient) && !now) return;
    clearTimeout(this.timers.get(recipient));
    this.timers.set(
      recipient,
      setTimeout(() => this.flush(recipient), now ? 0 : window),
    );
  }

  /**
   * Cuts the recipient's group and simulates it at once, alongside groups still being simulated;
   * only the funds check and claim run one group at a time (so funds checks never interleave).
   * Each group ends when its txs are broadcast, not mined.
   */
  private flush(recipient: string): void {
    this.timers.delete(recipient);
    const group = this.groups.get(recipient) ?? [];
    // A backlog (more than one batch waiting) goes out least time left first.
    if (group.length > this.config.values.REDEEMER_BATCH_MAX_SIZE) group.sort(byTimeLeft);
    const take = group.splice(0, this.config.values.REDEEMER_BATCH_MAX_SIZE);
    if (group.length === 0) this.groups.delete(recipient);
    else this.schedule(recipient, true);
    if (take.length === 0) return;
    const owner = `flush:${++this.seq}`;
    // Busy from now on, but committed against no sender's funds until the claim below.
    this.inFlight.hold(owner, heldFree(take));
    const simulated = this.simulate(take);
    // Never rejects: a failure is handled inside, so the chain goes on.
    simulated.catch(() => undefined);
    // redeemGroup answers its tickets on every path and never rejects; were it to, the groups
    // after it must still run.
    this.flushing = this.flushing
      .then(() => this.redeemGroup(take, owner, simulated))
      .catch((err: unknown) =>
        this.logger.error({ msg: 'redemption group failed', error: safeErrorMessage(err) }),
      );
  }

  private async redeemGroup(entries: Entry[], owner: string, simulated: Promise<Simulated>): Promise<void> {
    let rest: Simulated | undefined;
    try {
      rest = await simulated;
    } catch (err) {
      this.groupFailed(entries, [owner], err);
      return;
    }
    // A group larger than the chain's room goes in parts, each once there is room for it, in the
    // order flush gave (least time left first under a backlog); the rest wait their turn here,
    // unclaimed (queued in Postgres) and held by `owner`, ahead of the groups behind this one.
    while (rest !== undefined && rest.candidates.length > 0) rest = await this.redeemPart(rest, owner);
    this.inFlight.release(owner);
  }

  /**
   * Sends the part of `s` the chain has room for (admitted) once it has room, and answers that
   * part's tickets on every path. Returns the rest, still held by `owner` and unanswered, or
   * undefined when nothing is left to send (every ticket answered).
   */
  private async redeemPart(s: Simulated, owner: string): Promise<Simulated | undefined> {
    const entries = s.candidates.map((c) => c.entry);
    // The part's own hold: its tickets are held until their txs' settlements hold them, while the
    // group goes on with the rest.
    const part = `flush:${++this.seq}`;
    let rest: Simulated | undefined;
    let txs: Candidate[][];
    let release = (): void => undefined;
    try {
      // Not claimed (nor funded) while the chain has no room: the tickets stay queued (BlockSpace).
      // Nor while nothing can be sent (stopping, or the signer lease lost until it is back):
      // the group gives its tickets back to their jobs as they were, no attempt counted.
      const held = () => this.stopped || !this.txs.sending;
      const waited = await this.space.waitForRoom(s.blockGasLimit, this.txs, held);
      if (waited) this.metrics.blockSpaceWaits.inc();
      if (held()) {
        for (const e of entries) e.resolve(verdict(wait(RedemptionCode.IN_PROGRESS)));
        return undefined;
      }
      s = await this.judgedAgain(s);
      // Every ticket was decided (by its simulation, or judged again): nothing to send.
      if (s.candidates.length === 0) return undefined;
      [s, rest] = this.admitted(s);
      this.inFlight.hold(part, heldFree(s.candidates.map((c) => c.entry)));
      this.inFlight.hold(owner, heldFree(rest?.candidates.map((c) => c.entry) ?? []));
      release = this.space.reserve(gasOf(s.candidates));
      txs = await this.claim(s, part);
    } catch (err) {
      release();
      this.groupFailed(entries, [part], err);
      return undefined;
    }
    const sendable = await this.sendable(txs.flat(), s.validity);
    if ('back' in sendable) {
      release();
      this.inFlight.release(part);
      // The rest would be held back alike: answered the same, nothing claimed. Not at a round's
      // end its tickets in their last valid round: they go on as the rest (sendable lets them go).
      const ending = sendable.back.code === RedemptionCode.ROUND_ENDING;
      const going = ending ? (rest?.candidates.filter((c) => lastRound(c.entry.row, s)) ?? []) : [];
      for (const c of rest?.candidates ?? []) if (!going.includes(c)) c.entry.resolve(verdict(sendable.back));
      return rest && going.length > 0 ? { ...rest, candidates: going } : undefined;
    }
    if (sendable.heldBack.size > 0) {
      // Only tickets in their last valid round go at the round's end; the others were put back.
      txs = txs
        .map((claimed) => claimed.filter((c) => !sendable.heldBack.has(c)))
        .filter((t) => t.length > 0);
      // Still held with their face values (as the claim held them): the sender's funds cover them.
      this.inFlight.hold(
        part,
        txs.flat().map((c) => c.entry.row),
      );
    }
    // Their jobs let go of their worker slots now: the txs' sends queue behind this signer's
    // others (one nonce at a time), and a slot held through that queue paced the whole Redeemer.
    // From here a failed send puts its tickets back and wakes their jobs itself (send).
    for (const c of txs.flat()) c.entry.resolve({ kind: 'claimed' });
    // Each tx counts as waiting for block space until the TxManager has stored it (then it is in
    // its unmined txs): swapped in one step, so the part's gas is never missing nor counted twice
    // for long.
    const releases = txs.map((claimed) => this.space.reserve(gasOf(claimed)));
    release();
    // Not awaited by the flush chain: the next funds check still sees these tickets, held by
    // `part` until their tx's settlement holds them.
    const calls = this.chain.calls();
    void Promise.all(
      txs.map((claimed, i) =>
        this.send(claimed, calls, sendable.head)
          .catch((err: unknown) => {
            // Only putting the tickets back failed (database): their jobs wake from their sleep,
            // find them claimed without a stored tx and queue them again (ORPHANED).
            const error = classifyChainError(err);
            this.logger.warn({ msg: 'redemption tx failed', code: error.code, error: error.message });
          })
          .finally(releases[i]),
      ),
    ).finally(() => this.inFlight.release(part));
    return rest;
  }

  /**
   * The txs of `s` that may go now (BlockSpace.admits: the first, then each while the chain is
   * expected to have room for it), and the rest, or undefined when all may go. Split as the claim
   * splits them (txsOf); the claim may drop some for their senders' funds, never add.
   */
  private admitted(s: Simulated): [Simulated, Simulated | undefined] {
    const txs = txsOf(s.candidates, s.blockGasLimit);
    const n = this.space.admits(s.blockGasLimit, this.txs.unmined(), txs.map(gasOf));
    if (n >= txs.length) return [s, undefined];
    return [
      { ...s, candidates: txs.slice(0, n).flat() },
      { ...s, candidates: txs.slice(n).flat() },
    ];
  }

  /** A group, or a part of one, that failed before its txs were sent: nothing claimed, retried as a chain error. */
  private groupFailed(entries: readonly Entry[], owners: readonly string[], err: unknown): void {
    // A funds check out of time (a chain read, or another Redeemer holding the locks): nothing was claimed.
    const error =
      err instanceof SenderFundsTimeout
        ? new ChainTxError(ChainErrorCode.CHAIN_UNAVAILABLE, err.message)
        : classifyChainError(err);
    this.logger.warn({ msg: 'redemption batch failed', code: error.code, error: error.message });
    for (const e of entries)
      e.resolve(verdict(retry(RedemptionCode.CHAIN_ERROR, `${error.code}: ${error.message}`)));
    for (const owner of owners) this.inFlight.release(owner);
  }

  /**
   * The head the claimed tickets' txs are judged at (their mining delay counts from it), or why
   * they go back in line instead: the round may end before they are mined (the gate's rule again,
   * at the latest head: the batch window, simulations and claim may have brought its end near), or
   * the head could not be read. As in the gate, tickets in their last valid round still go then
   * (`heldBack` are the others, put back). Their jobs still hold their slots: each is answered here,
   * noted by the one UPDATE that puts them back (no note of their own follows); a round wait sleeps
   * until the next round can be initialized, holding the worker unless a ticket in its last valid
   * round waits. Never rejects: the flush chain must go on.
   */
  private async sendable(
    claimed: readonly Candidate[],
    validity: bigint,
  ): Promise<{ head: ChainHead; heldBack: ReadonlySet<Candidate> } | { back: Verdict }> {
    let back: Verdict;
    let stay = claimed;
    let head: ChainHead | undefined;
    try {
      head = await this.chain.head();
      if (!roundMayEndBeforeMined(head, this.margin.blocks())) return { head, heldBack: new Set() };
      back = wait(RedemptionCode.ROUND_ENDING, this.chain.msUntilRoundReady(head));
      // Held, a ticket in its last valid round surely expires; sent, it is lost only if mined late.
      const now = { currentRound: head.rounds.currentRound, validity };
      stay = claimed.filter((c) => !lastRound(c.entry.row, now));
    } catch (err) {
      const error = classifyChainError(err);
      this.logger.warn({ msg: 'redemption txs held back: no head', code: error.code, error: error.message });
      back = retry(RedemptionCode.CHAIN_ERROR, `${error.code}: ${error.message}`);
    }
    const result = await this.putBack(stay, back);
    return head && stay.length < claimed.length ? { head, heldBack: new Set(stay) } : result;
  }

  /** Puts claimed tickets back in line with the reason `back` (answered to their jobs). */
  private async putBack(claimed: readonly Candidate[], back: Verdict): Promise<{ back: Verdict }> {
    if (claimed.length === 0) return { back };
    try {
      await this.tickets.unclaimAll(
        claimed.map((c) => c.entry.row.ticketHash),
        back.code,
      );
    } catch (err) {
      // Left claimed with no tx stored: their jobs queue them again (ORPHANED).
      const error = classifyChainError(err);
      this.logger.warn({ msg: 'redemption batch not put back', code: error.code, error: error.message });
      const notBack = retry(RedemptionCode.CHAIN_ERROR, `${error.code}: ${error.message}`);
      for (const c of claimed) c.entry.resolve(verdict(notBack));
      return { back };
    }
    if (back.code === RedemptionCode.ROUND_ENDING) {
      this.metrics.roundEndHolds.inc();
      this.logger.log({ msg: 'redemption txs held back: the round ends', tickets: claimed.length });
    }
    for (const c of claimed) {
      c.entry.row.statusReason = back.code;
      c.entry.resolve(verdict(back));
    }
    return { back };
  }

  /**
   * A group as it stands at the head now, before its claim. Judged in a round that has ended
   * meanwhile (waiting for block space, or queued behind groups that did): a ticket may have
   * expired (its tx would revert), or the new round may not be initialized yet; simulated again.
   * Judged at a lower gas price (full blocks raise it): its cost is judged again.
   */
  private async judgedAgain(s: Simulated): Promise<Simulated> {
    const head = await this.chain.head();
    if (head.rounds.currentRound !== s.currentRound) return this.simulate(s.candidates.map((c) => c.entry));
    if (head.gasPrice <= s.gasPrice) return s;
    const judged = { ...s, gasPrice: head.gasPrice };
    return { ...judged, candidates: this.affordableGas(s.candidates, judged) };
  }

  /**
   * Simulates each ticket on its own: a used (or otherwise doomed) ticket is decided by its revert
   * reason and never counts against its sender's funds; one that would cost too much waits. One
   * eth_call per ticket against the recipient's learned gas figure, or eth_estimateGas when there
   * is none (see RedemptionGas).
   */
  private async simulate(entries: Entry[]): Promise<Simulated> {
    const calls = this.chain.calls();
    const [head, blockGasLimit, validity] = await Promise.all([
      this.chain.head(),
      this.chain.blockGasLimit(),
      this.chain.validityPeriod(),
    ]);
    const round = head.rounds.currentRound;
    const recipient = entries[0].row.recipient;
    const expected = this.gas.expected(recipient, round);
    const signer = this.txs.address;
    const data = entries.map((e) => calls.encodeRedeem(e.row));
    const estimated: bigint[] = [];
    const estimate = async (d: string): Promise<Simulation> => {
      const sim = await calls.simulate(signer, calls.brokerAddress, d);
      if (sim.ok) estimated.push(sim.gas);
      return sim;
    };
    const sims = await Promise.all(
      data.map(async (d): Promise<Simulation> => {
        if (expected === undefined) return estimate(d);
        const check = await calls.check(signer, calls.brokerAddress, d, checkLimit(expected));
        switch (check.kind) {
          case 'ok':
            return { ok: true, gas: expected };
          case 'reverted':
            return { ok: false, error: check.error };
          case 'unclear':
            return estimate(d);
        }
      }),
    );
    this.gas.learn(recipient, round, estimated);
    const candidates: Candidate[] = [];
    entries.forEach((e, i) => {
      const sim = sims[i];
      if (!sim.ok) {
        const past = e.row.creationRound < head.rounds.currentRound;
        e.resolve(verdict(verdictForRevert(sim.error.revert?.reason, past)));
        return;
      }
      candidates.push({ entry: e, needs: sim.gas, gas: gasAllowance(sim.gas), data: data[i] });
    });
    const judged = { currentRound: head.rounds.currentRound, validity, gasPrice: head.gasPrice };
    return { ...judged, candidates: this.affordableGas(candidates, judged), blockGasLimit };
  }

  /** The candidates whose gas is affordable at the gas price judged (gasCostWait); the others wait. */
  private affordableGas(
    candidates: readonly Candidate[],
    judged: Pick<Simulated, 'currentRound' | 'validity' | 'gasPrice'>,
  ): Candidate[] {
    const limits = this.config.gasLimits();
    return candidates.filter((c) => {
      const { row } = c.entry;
      const held =
        !c.entry.ignoreGasLimits &&
        gasCostWait(limits, judged.gasPrice, {
          gas: c.needs,
          faceValue: row.faceValue,
          lastRound: lastRound(row, judged),
        });
      if (held) c.entry.resolve(verdict(held));
      return !held;
    });
  }

  /**
   * Funds and claims the simulated survivors (the others are decided), split into txs. The check
   * and the claim hold the senders' funds locks (SignerLease): another Redeemer's check of the
   * same sender waits, then reads these tickets claimed (in a tx, by Postgres). A check that runs
   * past REDEEMER_SENDER_FUNDS_TIMEOUT_MS lets the locks go and claims nothing (SenderFundsTimeout:
   * the group is retried as a chain error).
   */
  private async claim(s: Simulated, owner: string): Promise<Candidate[][]> {
    const calls = this.chain.calls();
    const senders = s.candidates.map((c) => c.entry.row.sender);
    const { affordable, moved } = await this.lease.withSenderFunds(
      this.txs.chain,
      senders,
      async (commit) => {
        const funded = new Set(await this.funded(s, calls, owner));
        const affordable = s.candidates.filter((c) => funded.has(c));
        const hashes = affordable.map((c) => c.entry.row.ticketHash);
        // Its wait for rows is bounded as the check is: it runs holding the funds locks.
        const moved = new Set(
          await commit(() =>
            this.tickets.claimAll(hashes, this.config.values.REDEEMER_SENDER_FUNDS_TIMEOUT_MS),
          ),
        );
        return { affordable, moved };
      },
      // Other Redeemers of these senders wait for this check: a stuck chain read must not hold them.
      this.config.values.REDEEMER_SENDER_FUNDS_TIMEOUT_MS,
    );
    const claimed = affordable.filter((c) => {
      if (!moved.has(c.entry.row.ticketHash)) c.entry.resolve(verdict(wait(RedemptionCode.IN_PROGRESS)));
      return moved.has(c.entry.row.ticketHash);
    });
    // Only what goes into a tx stays held, now with its face value: the others are free.
    this.inFlight.hold(
      owner,
      claimed.map((c) => c.entry.row),
    );
    return txsOf(claimed, s.blockGasLimit);
  }

  /**
   * Keeps each sender's tickets, least time left first (byTimeLeft), while deposit +
   * min(reserve, claimable) covers their face values on top of the sender's tickets already in
   * flight, ours or another Redeemer's (unpaidInTx; those to other recipients take from the
   * deposit only: fundsLeftFor), and, for a ticket not in its last valid round, on top of the
   * queued tickets that are; the contract would otherwise pay short and still consume them. A
   * ticket left out while the sender has txs in flight waits for those (SENDER_BUSY); with nothing
   * in flight the funds are simply short. Except in a ticket's last valid round, where waiting
   * loses it: the first such ticket left out goes with what the funds have left, when that pays
   * more than its gas costs (the contract pays it short; settlement records UNDERPAID), and no
   * younger ticket is funded before it (it can wait for next round's).
   */
  private async funded(s: Simulated, calls: RedemptionCalls, owner: string): Promise<Candidate[]> {
    const bySender = new Map<string, Candidate[]>();
    for (const c of s.candidates) {
      const sender = c.entry.row.sender;
      bySender.set(sender, [...(bySender.get(sender) ?? []), c]);
    }
    const kept: Candidate[] = [];
    const elsewhere = await unpaidInTx(await this.tickets.inTx([...bySender.keys()]), this.inFlight, (hash) =>
      calls.isUsed(hash),
    );
    await Promise.all(
      [...bySender.entries()].map(async ([sender, list]) => {
        const recipient = list[0].entry.row.recipient;
        const funds = await calls.senderFunds(sender, recipient);
        const locked = isSenderLocked(funds, s.currentRound);
        // Counted again even when mined but not yet settled (the chain already paid it): safe side.
        const committed = this.inFlight.committed(sender, recipient, owner, elsewhere);
        // Tickets to other recipients take from this one's funds only the shared deposit.
        const available = fundsLeftFor(funds, committed.others);
        // Tickets in their last valid round not in this pass (their jobs run apart) keep their
        // share too: funded first, a younger ticket would leave them only the rest.
        const lastOnes = lastValidCreationRound(s.validity, s.currentRound);
        const keptForLast =
          lastOnes === undefined
            ? 0n
            : await this.tickets.unclaimedFaceValue(
                sender,
                recipient,
                lastOnes,
                list.map((c) => c.entry.row.ticketHash),
              );
        let total = committed.own;
        const short: Candidate[] = [];
        /** A ticket in its last round is short: what the funds hold is its, not a younger ticket's. */
        let lastRoundShort = false;
        for (const c of list.sort((a, b) => byTimeLeft(a.entry, b.entry))) {
          const { row } = c.entry;
          const young = !lastRound(row, s);
          if (!locked) {
            c.entry.resolve(verdict(wait(RedemptionCode.SENDER_UNLOCKED)));
          } else if (lastRoundShort && young) {
            // Funded now, it would leave the last-round ticket only the rest; it can wait a round.
            short.push(c);
          } else if (total + row.faceValue + (young ? keptForLast : 0n) <= available) {
            total += row.faceValue;
            kept.push(c);
          } else {
            short.push(c);
            lastRoundShort ||= lastRound(row, s);
          }
        }
        // Only its last round's first ticket goes short: the funds are spent by it. What it is paid
        // then stands for its face value in the cost rule of a ticket's last round (gasCostWait).
        const last = short.find((c) => lastRound(c.entry.row, s));
        const goesShort =
          last &&
          !gasCostWait(this.config.gasLimits(), s.gasPrice, {
            gas: last.needs,
            faceValue: available - total,
            lastRound: true,
          })
            ? last
            : undefined;
        if (goesShort) {
          kept.push(goesShort);
          this.logger.warn({
            msg: 'ticket in its last valid round redeemed short: the sender cannot cover its face value',
            ticketHash: goesShort.entry.row.ticketHash,
            sender,
            faceValue: goesShort.entry.row.faceValue.toString(),
            available: (available - total).toString(),
          });
        }
        for (const c of short) {
          if (c === goesShort) continue;
          c.entry.resolve(
            verdict(
              wait(
                committed.own + committed.others > 0n
                  ? RedemptionCode.SENDER_BUSY
                  : RedemptionCode.INSUFFICIENT_FUNDS,
              ),
            ),
          );
        }
      }),
    );
    return kept;
  }

  /**
   * Sends one tx of claimed tickets, judged at `head`. Their jobs sleep meanwhile (BatchOutcome
   * `claimed`): a sent tx's settlement removes or wakes them; a send that fails wakes them here.
   */
  private async send(claimed: Candidate[], calls: RedemptionCalls, head: ChainHead): Promise<void> {
    const rows = claimed.map((c) => c.entry.row);
    const hashes = rows.map((r) => r.ticketHash);
    const single = rows.length === 1;
    const gas = gasOf(claimed);
    let txId: string;
    try {
      const record = await this.txs.send(
        {
          purpose: single ? REDEMPTION_TX_PURPOSES.single : REDEMPTION_TX_PURPOSES.batch,
          to: calls.brokerAddress,
          data: single ? claimed[0].data : calls.encodeBatchRedeem(rows),
          // A batch is never sized by estimateGas: a sub-call that runs out of gas is swallowed,
          // so the estimate may starve the last ticket. Each ticket brings its own allowance
          // (its single redemption's gas, doubled: RedemptionGas), and each sub-call is given all
          // the gas left, so a ticket can only run short if one before it took more than its own.
          gasLimit: gas,
          refs: hashes,
          // Stored with the tx: where its mining delay starts, for the round-end margin.
          judgedL1Block: head.l1Block,
        },
        {
          beforeBroadcast: (record) => this.tickets.markAllSubmitted(hashes, record.hashes[0]),
        },
      );
      txId = record.id;
    } catch (err) {
      const error = classifyChainError(err);
      // Nothing was stored, so nothing can be mined: the tickets go back in line, an attempt
      // counted (their next run waits out its back-off), and their jobs are woken. Unless the tx
      // may have been stored (its insert's answer was lost): then they stay claimed, and their
      // jobs find the tx by its refs once the tx manager follows it, or put them back in line once
      // the claim is old with no tx stored (ORPHAN_MIN_AGE_MS).
      this.logger.warn({ msg: 'redemption tx not sent', code: error.code, error: error.message });
      if (!(error instanceof TxMaybeStoredError)) {
        await this.tickets.unclaimAll(hashes, RedemptionCode.CHAIN_ERROR);
        const why = `${error.code}: ${error.message}`;
        // A count not written only shortens their back-off: their jobs are woken all the same.
        await Promise.all(
          hashes.map((h) => this.redemptions.recordRetry(h, RedemptionCode.CHAIN_ERROR, why)),
        ).catch((err: unknown) =>
          this.logger.warn({ msg: 'retry not counted', error: safeErrorMessage(err) }),
        );
        this.metrics.retries.inc({ code: RedemptionCode.CHAIN_ERROR }, hashes.length);
      }
      await this.settlement.wakeJobs({ final: [], again: hashes });
      return;
    }
    this.metrics.batchSize.observe(rows.length);
    // The tx's own hold replaces the flush's before the flush lets go of the tickets.
    void this.settlement.settle(txId, rows);
  }
}

const verdict = (v: Verdict): BatchOutcome => ({ kind: 'verdict', verdict: v });

/**
 * Of `rows` (the senders' tickets in a tx by Postgres, whoever sent it: another signer's, or the
 * previous holder's of a recipient taken over, whose txs may still be mined), those the chain has
 * not paid: the deposit is shared by every recipient. A used ticket is left out, its payment
 * already in the funds read (its tx may stay unsettled for long: only its signer settles it). Read
 * before the funds: a ticket paid in between is counted twice (safe side), never missed. A ticket
 * held in `inFlight` now is kept without asking the chain: its hold may end before the funds are
 * compared (a settlement run finding its tx still pending lets go), and `InFlight.committed`
 * counts it once either way.
 */
export async function unpaidInTx(
  rows: readonly HeldTicket[],
  inFlight: InFlight,
  isUsed: (ticketHash: string) => Promise<boolean>,
): Promise<HeldTicket[]> {
  const used = await Promise.all(
    rows.map((t) => (inFlight.ticketBusy(t.ticketHash) ? Promise.resolve(false) : isUsed(t.ticketHash))),
  );
  return rows.filter((_, i) => !used[i]);
}

/**
 * Least time left first: a ticket is valid for ticketValidityPeriod rounds from its creationRound,
 * so the oldest round expires first; within a round, the oldest arrival.
 */
export function byTimeLeft(a: { row: TimeLeft }, b: { row: TimeLeft }): number {
  if (a.row.creationRound !== b.row.creationRound) return a.row.creationRound < b.row.creationRound ? -1 : 1;
  return a.row.createdAt.getTime() - b.row.createdAt.getTime();
}

type TimeLeft = Pick<WinningTicketEntity, 'creationRound' | 'createdAt'>;

/** Busy, but committed against no sender's funds (not claimed). */
const heldFree = (entries: readonly Entry[]): HeldTicket[] =>
  entries.map((e) => ({
    ticketHash: e.row.ticketHash,
    sender: e.row.sender,
    recipient: e.row.recipient,
    faceValue: 0n,
  }));

/**
 * What a sender's funds can still pay one recipient (`funds`: the deposit and that recipient's
 * reserve share) once `others` of face value to other recipients are paid: those take the deposit
 * first, and past it their own recipients' shares.
 */
export function fundsLeftFor(funds: Pick<SenderFunds, 'deposit' | 'available'>, others: bigint): bigint {
  const fromReserve = funds.available - funds.deposit;
  return (funds.deposit > others ? funds.deposit - others : 0n) + fromReserve;
}

/** `candidates` split into txs of at most txGasCap for the largest allowance among them. */
function txsOf(candidates: readonly Candidate[], blockGasLimit: bigint): Candidate[][] {
  const allowance = candidates.reduce((max, c) => (c.gas > max ? c.gas : max), 0n);
  return splitByGas(candidates, txGasCap(blockGasLimit, allowance));
}

/** The gas limit of txs carrying `candidates`: the sum of their allowances. */
const gasOf = (candidates: readonly { gas: bigint }[]): bigint =>
  candidates.reduce((sum, c) => sum + c.gas, 0n);

/**
 * Consecutive runs of `claimed` whose gas limit (the sum of their allowances) stays within
 * `maxGas`; a ticket over it on its own still goes alone (its simulation says it fits a block).
 */
export function splitByGas<T extends { gas: bigint }>(claimed: readonly T[], maxGas: bigint): T[][] {
  const txs: T[][] = [];
  let current: T[] = [];
  let sum = 0n;
  for (const c of claimed) {
    if (current.length > 0 && sum + c.gas > maxGas) {
      txs.push(current);
      current = [];
      sum = 0n;
    }
    current.push(c);
    sum += c.gas;
  }
  if (current.length > 0) txs.push(current);
  return txs;
}
