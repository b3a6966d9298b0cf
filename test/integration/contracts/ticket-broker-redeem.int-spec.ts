import { readFileSync } from 'node:fs';
import {
  Signature,
  SigningKey,
  Wallet,
  ZeroAddress,
  ZeroHash,
  concat,
  dataSlice,
  keccak256,
  parseEther,
  solidityPackedKeccak256,
  toBeHex,
} from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_WIN_PROB,
  encodeAuxData,
  eventArgs,
  eventNames,
  makeTicket,
  mined,
  recipientRandHash,
  redeem,
  revertOf,
  signTicket,
  startProtocol,
  ticketHash,
  type ProtocolFixture,
  type SignedTicket,
  type Ticket,
} from './protocol-fixture.js';

// Redemption, reserve and batch semantics (TICKETBROKER.md §2, §4.5–4.7, §7, §8).

let fx: ProtocolFixture;
let r0: string;
let r1: string;
beforeAll(async () => {
  fx = await startProtocol();
  [r0, r1] = fx.recipients.map((r) => r.address);
});
afterAll(() => fx?.stop());
// A fresh round per test: tickets are created and redeemed well inside one round.
beforeEach(async () => {
  await fx.nextRound();
});

const ETH = parseEther('1');
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function fundedSender(deposit: bigint, reserve = 0n): Promise<Wallet> {
  const sender = await fx.newAccount();
  await mined(fx.brokerAs(sender).fundDepositAndReserve(deposit, reserve, { value: deposit + reserve }));
  return sender;
}

/**
 * Sent with an explicit gas limit: the sub-calls' failures are swallowed, so eth_estimateGas can
 * settle on a limit at which late tickets silently run out of gas.
 */
function batch(t: SignedTicket[], gasLimit = 10_000_000) {
  return fx.broker.batchRedeemWinningTickets(
    t.map((x) => x.ticket),
    t.map((x) => x.sig),
    t.map((x) => x.recipientRand),
    { gasLimit },
  );
}

/** Re-signs `ticket` (after a change) with `signer`. */
async function resigned(signer: Wallet, ticket: Ticket, recipientRand: bigint): Promise<SignedTicket> {
  return { ticket, sig: await signTicket(signer, ticket), recipientRand, hash: ticketHash(ticket) };
}

describe('redeemWinningTicket', () => {
  it('pays from the deposit: fees credited, WinningTicketTransfer then WinningTicketRedeemed', async () => {
    const sender = await fundedSender(ETH);
    const t = await makeTicket(fx, sender, r0, parseEther('0.3'));
    const feesBefore = await fx.bonding.pendingFees(r0, 0);
    // Permissionless: a third party submits it, the value still goes to the recipient.
    const receipt = await mined(redeem(fx.brokerAs(await fx.newAccount()), t));

    expect(eventNames(receipt, fx.broker)).toEqual(['WinningTicketTransfer', 'WinningTicketRedeemed']);
    const [transfer] = eventArgs(receipt, fx.broker, 'WinningTicketTransfer');
    expect([transfer.sender, transfer.recipient, transfer.amount]).toEqual([
      sender.address,
      r0,
      parseEther('0.3'),
    ]);
    const [redeemed] = eventArgs(receipt, fx.broker, 'WinningTicketRedeemed');
    expect([...redeemed]).toEqual([
      sender.address,
      r0,
      t.ticket.faceValue,
      t.ticket.winProb,
      t.ticket.senderNonce,
      t.recipientRand,
      t.ticket.auxData,
    ]);
    expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + parseEther('0.3'));
    expect((await fx.broker.getSenderInfo(sender.address)).sender.deposit).toBe(parseEther('0.7'));
    expect(await fx.broker.usedTickets(t.hash)).toBe(true);
    expect(await fx.broker.getTicketHash(t.ticket)).toBe(t.hash);
    expect((await revertOf(redeem(fx.broker, t))).reason).toBe('ticket is used');
  });

  it('consumes a faceValue-0 winner, or one with nothing left to pay, emitting only WinningTicketRedeemed', async () => {
    const sender = await fundedSender(ETH);
    const zero = await makeTicket(fx, sender, r0, 0n);
    expect(eventNames(await mined(redeem(fx.broker, zero)), fx.broker)).toEqual(['WinningTicketRedeemed']);

    // Reserve only, and the recipient is registered but not active, so it may not claim any of it.
    const reserveOnly = await fundedSender(0n, ETH);
    const inactive = (await fx.newAccount()).address;
    await mined(fx.bonding.register(inactive));
    const unpaid = await makeTicket(fx, reserveOnly, inactive, ETH);
    const receipt = await mined(redeem(fx.broker, unpaid));
    expect(eventNames(receipt, fx.broker)).toEqual(['WinningTicketRedeemed']);
    expect(await fx.broker.usedTickets(unpaid.hash)).toBe(true);
    expect(await fx.bonding.pendingFees(inactive, 0)).toBe(0n);
  });

  it('§4.6 example: reserve 0.2, pool 2, deposit 0.9, faceValue 1.15 pays 0.9 + 0.1', async () => {
    expect(await fx.bonding.getTranscoderPoolSize()).toBe(2n);
    const sender = await fundedSender(parseEther('0.9'), parseEther('0.2'));
    const feesBefore = await fx.bonding.pendingFees(r0, 0);
    const receipt = await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, parseEther('1.15'))));

    expect(eventNames(receipt, fx.broker)).toEqual([
      'ReserveClaimed',
      'WinningTicketTransfer',
      'WinningTicketRedeemed',
    ]);
    const [claimed] = eventArgs(receipt, fx.broker, 'ReserveClaimed');
    expect([claimed.reserveHolder, claimed.claimant, claimed.amount]).toEqual([
      sender.address,
      r0,
      parseEther('0.1'),
    ]);
    expect(eventArgs(receipt, fx.broker, 'WinningTicketTransfer')[0].amount).toBe(parseEther('1'));
    expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + parseEther('1'));

    const info = await fx.broker.getSenderInfo(sender.address);
    expect([info.sender.deposit, info.reserve.fundsRemaining, info.reserve.claimedInCurrentRound]).toEqual([
      0n,
      parseEther('0.1'),
      parseEther('0.1'),
    ]);
    expect(await fx.broker.claimedReserve(sender.address, r0)).toBe(parseEther('0.1'));
    expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(0n);
    // The other recipient's share is not shrunk by r0's claim.
    expect(await fx.broker.claimableReserve(sender.address, r1)).toBe(parseEther('0.1'));
    // Not an active recipient: nothing to claim.
    expect(await fx.broker.claimableReserve(sender.address, sender.address)).toBe(0n);

    // Claims are per round: next round the allocation is recomputed from what is left.
    await fx.nextRound();
    expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(parseEther('0.05'));
    expect(await fx.broker.claimableReserve(sender.address, r1)).toBe(parseEther('0.05'));
    expect(await fx.broker.claimedReserve(sender.address, r0)).toBe(0n);
    expect((await fx.broker.getReserveInfo(sender.address)).claimedInCurrentRound).toBe(0n);
  });

  it('reverts "transcoder must be registered" for an unregistered recipient and leaves the ticket unused', async () => {
    const sender = await fundedSender(ETH);
    const t = await makeTicket(fx, sender, (await fx.newAccount()).address, 1n);
    expect((await revertOf(redeem(fx.broker, t))).reason).toBe('transcoder must be registered');
    expect(await fx.broker.usedTickets(t.hash)).toBe(false);
  });

  it('reverts "sender deposit and reserve are zero" for an unfunded sender', async () => {
    const t = await makeTicket(fx, await fx.newAccount(), r0, 1n);
    expect((await revertOf(redeem(fx.broker, t))).reason).toBe('sender deposit and reserve are zero');
  });

  it('validates the ticket fields and auxData', async () => {
    const sender = await fundedSender(ETH);
    const round = await fx.rounds.currentRound();
    const hash = await fx.rounds.blockHashForRound(round);
    const cases: [Partial<Ticket>, string][] = [
      [{ recipient: ZeroAddress }, 'ticket recipient is null address'],
      [{ sender: ZeroAddress }, 'ticket sender is null address'],
      [{ auxData: '0x' }, 'invalid length for ticket auxData: must be 64 bytes'],
      [
        { auxData: dataSlice(encodeAuxData(round, hash), 0, 63) },
        'invalid length for ticket auxData: must be 64 bytes',
      ],
      [
        { auxData: concat([encodeAuxData(round, hash), '0x00']) },
        'invalid length for ticket auxData: must be 64 bytes',
      ],
      [{ auxData: encodeAuxData(round + 1n, hash) }, 'ticket creationRound does not have a block hash'],
      [
        { auxData: encodeAuxData(round, keccak256('0x01')) },
        'ticket creationRoundBlockHash invalid for creationRound',
      ],
      [{ recipientRandHash: recipientRandHash(42n) }, 'recipientRand does not match recipientRandHash'],
      [{ winProb: 0n }, 'ticket did not win'],
      [{ winProb: 1n }, 'ticket did not win'],
    ];
    for (const [overrides, reason] of cases) {
      const t = await makeTicket(fx, sender, r0, 1n, overrides);
      expect((await revertOf(redeem(fx.broker, t))).reason, reason).toBe(reason);
    }
  });

  it('accepts a ticket for its creation round and the next, then "ticket is expired" (validity 2)', async () => {
    const sender = await fundedSender(ETH);
    const [a, b] = [await makeTicket(fx, sender, r0, 1n), await makeTicket(fx, sender, r0, 1n)];
    await fx.nextRound();
    await mined(redeem(fx.broker, a));
    await fx.nextRound();
    expect((await revertOf(redeem(fx.broker, b))).reason).toBe('ticket is expired');
  });

  it('reverts "current round is not initialized" (single and batch) while funding keeps working', async () => {
    const sender = await fundedSender(ETH);
    const t = await makeTicket(fx, sender, r0, 1n);
    await fx.mineToNextRoundUninitialized();
    expect((await revertOf(redeem(fx.broker, t))).reason).toBe('current round is not initialized');
    const simulated = fx.broker.batchRedeemWinningTickets([t.ticket], [t.sig], [t.recipientRand]);
    expect((await revertOf(simulated)).reason).toBe('current round is not initialized');
    await mined(fx.brokerAs(sender).fundDeposit({ value: 1 }));
    await mined(fx.rounds.initializeRound());
    await mined(redeem(fx.broker, t));
  });

  it('checks in mainnet order when a ticket breaks several rules at once', async () => {
    const sender = await fundedSender(ETH);
    const round = await fx.rounds.currentRound();
    const order: [Partial<Ticket>, string][] = [
      [{ recipient: ZeroAddress, sender: ZeroAddress }, 'ticket recipient is null address'],
      [{ sender: ZeroAddress, auxData: '0x' }, 'ticket sender is null address'],
      [
        { auxData: encodeAuxData(round, ZeroHash), recipientRandHash: ZeroHash },
        'ticket creationRoundBlockHash invalid for creationRound',
      ],
      [{ recipientRandHash: ZeroHash, winProb: 0n }, 'recipientRand does not match recipientRandHash'],
    ];
    for (const [overrides, reason] of order) {
      const t = await makeTicket(fx, sender, r0, 1n, overrides);
      expect((await revertOf(redeem(fx.broker, t))).reason, reason).toBe(reason);
    }
    // Used beats a bad signature; a bad signature beats losing; losing beats an unfunded sender.
    const used = await makeTicket(fx, sender, r0, 1n);
    await mined(redeem(fx.broker, used));
    expect(
      (await revertOf(fx.broker.redeemWinningTicket(used.ticket, '0x00', used.recipientRand))).reason,
    ).toBe('ticket is used');
    const losing = await makeTicket(fx, sender, r0, 1n, { winProb: 0n });
    expect(
      (await revertOf(fx.broker.redeemWinningTicket(losing.ticket, '0x00', losing.recipientRand))).reason,
    ).toBe('INVALID_SIGNATURE_LENGTH');
    const unfundedLoser = await makeTicket(fx, await fx.newAccount(), r0, 1n, { winProb: 0n });
    expect((await revertOf(redeem(fx.broker, unfundedLoser))).reason).toBe('ticket did not win');
  });
});

describe('signatures', () => {
  let sender: Wallet;
  let t: SignedTicket;
  beforeEach(async () => {
    sender = await fundedSender(ETH);
    t = await makeTicket(fx, sender, r0, 1n);
  });
  const withSig = (sig: string) => fx.broker.redeemWinningTicket(t.ticket, sig, t.recipientRand);

  it('refuses anything but 65 bytes, including the EIP-2098 compact form of a valid signature', async () => {
    const compact = Signature.from(t.sig).compactSerialized;
    expect((await revertOf(withSig(compact))).reason).toBe('INVALID_SIGNATURE_LENGTH');
    expect((await revertOf(withSig(concat([t.sig, '0x00'])))).reason).toBe('INVALID_SIGNATURE_LENGTH');
    expect((await revertOf(withSig('0x'))).reason).toBe('INVALID_SIGNATURE_LENGTH');
  });

  it('refuses the high-s twin, v outside {27,28} and unrecoverable signatures with OZ 4.4 messages', async () => {
    const { r, s, v } = Signature.from(t.sig);
    const highS = concat([r, toBeHex(SECP256K1_N - BigInt(s), 32), toBeHex(v === 27 ? 28 : 27)]);
    expect((await revertOf(withSig(highS))).reason).toBe("ECDSA: invalid signature 's' value");
    expect((await revertOf(withSig(concat([r, s, toBeHex(v - 27)])))).reason).toBe(
      "ECDSA: invalid signature 'v' value",
    );
    expect((await revertOf(withSig(concat([ZeroHash, s, toBeHex(v)])))).reason).toBe(
      'ECDSA: invalid signature',
    );
  });

  it('refuses a signature by another key or over the raw hash without the EIP-191 prefix', async () => {
    const other = await signTicket(Wallet.createRandom(), t.ticket);
    expect((await revertOf(withSig(other))).reason).toBe('invalid signature over ticket hash');
    const raw = new SigningKey(sender.privateKey).sign(t.hash).serialized;
    expect((await revertOf(withSig(raw))).reason).toBe('invalid signature over ticket hash');
    await mined(withSig(t.sig));
  });

  it('draws the lottery as keccak256(sig ‖ recipientRand) < winProb', async () => {
    // With winProb = 2^255 about half the tickets win; the contract must agree with the local draw
    // on at least one winner and one loser.
    const seen = new Set<boolean>();
    while (seen.size < 2) {
      const candidate = await makeTicket(fx, sender, r0, 1n, { winProb: 1n << 255n });
      const draw = BigInt(
        solidityPackedKeccak256(['bytes', 'uint256'], [candidate.sig, candidate.recipientRand]),
      );
      const wins = draw < candidate.ticket.winProb;
      if (seen.has(wins)) continue;
      seen.add(wins);
      if (wins) await mined(redeem(fx.broker, candidate));
      else expect((await revertOf(redeem(fx.broker, candidate))).reason).toBe('ticket did not win');
    }
  });
});

describe('batchRedeemWinningTickets', () => {
  it('redeems the good tickets around a bad one; the tx succeeds and the bad ticket stays unused', async () => {
    const sender = await fundedSender(ETH);
    const [a, bad, c] = [
      await makeTicket(fx, sender, r0, 1n),
      await makeTicket(fx, sender, r0, 1n),
      await makeTicket(fx, sender, r1, 2n),
    ];
    bad.sig = await signTicket(Wallet.createRandom(), bad.ticket);
    const receipt = await mined(batch([a, bad, c]));
    expect(receipt.status).toBe(1);
    const redeemed = eventArgs(receipt, fx.broker, 'WinningTicketRedeemed');
    expect(redeemed.map((e) => e.senderNonce as bigint)).toEqual([
      a.ticket.senderNonce,
      c.ticket.senderNonce,
    ]);
    expect(await Promise.all([a, bad, c].map((x) => fx.broker.usedTickets(x.hash)))).toEqual([
      true,
      false,
      true,
    ]);
    expect((await fx.broker.getSenderInfo(sender.address)).sender.deposit).toBe(ETH - 3n);
  });

  it('pays a ticket duplicated in one batch once', async () => {
    const sender = await fundedSender(ETH);
    const t = await makeTicket(fx, sender, r0, 5n);
    const feesBefore = await fx.bonding.pendingFees(r0, 0);
    const receipt = await mined(batch([t, t]));
    expect(eventNames(receipt, fx.broker)).toEqual(['WinningTicketTransfer', 'WinningTicketRedeemed']);
    expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + 5n);
  });

  it('succeeds with no effect when every ticket fails, or when empty', async () => {
    const t = await makeTicket(fx, await fx.newAccount(), r0, 1n); // unfunded sender
    expect((await mined(batch([t]))).logs).toEqual([]);
    expect((await mined(batch([]))).logs).toEqual([]);
  });

  it('reverts with Panic(0x32) when sigs or recipientRands are shorter than tickets; ignores extras', async () => {
    const sender = await fundedSender(ETH);
    const [a, b] = [await makeTicket(fx, sender, r0, 1n), await makeTicket(fx, sender, r0, 1n)];
    const tickets = [a.ticket, b.ticket];
    const shortSigs = await revertOf(
      fx.broker.batchRedeemWinningTickets(tickets, [a.sig], [a.recipientRand, b.recipientRand]),
    );
    expect(shortSigs.panic).toBe(0x32n);
    const shortRands = await revertOf(
      fx.broker.batchRedeemWinningTickets(tickets, [a.sig, b.sig], [a.recipientRand]),
    );
    expect(shortRands.panic).toBe(0x32n);

    const receipt = await mined(
      fx.broker.batchRedeemWinningTickets([a.ticket], [a.sig, b.sig], [a.recipientRand, b.recipientRand], {
        gasLimit: 1_000_000,
      }),
    );
    expect(eventArgs(receipt, fx.broker, 'WinningTicketRedeemed')).toHaveLength(1);
    expect(await fx.broker.usedTickets(b.hash)).toBe(false);
  });
});

describe('reserve allocation edge cases (§8)', () => {
  it('clamps to 0 (instead of Panic 0x11) when the pool grows mid-round', async () => {
    const sender = await fundedSender(0n, ETH);
    const newcomer = (await fx.newAccount()).address;
    await mined(fx.bonding.register(newcomer));
    try {
      // r0 takes its full half; a third active recipient then shrinks every share to a third.
      await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, ETH)));
      expect(await fx.broker.claimedReserve(sender.address, r0)).toBe(ETH / 2n);
      await mined(fx.bonding.setActive(newcomer, true));
      expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(0n);
      expect(await fx.broker.claimableReserve(sender.address, newcomer)).toBe(ETH / 3n);

      const receipt = await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, 1n)));
      expect(eventNames(receipt, fx.broker)).toEqual(['WinningTicketRedeemed']);
    } finally {
      await mined(fx.bonding.setActive(newcomer, false));
    }
  });

  it('never pays out more than the funds left when the pool shrinks mid-round', async () => {
    const sender = await fundedSender(0n, ETH);
    await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, ETH)));
    await mined(redeem(fx.broker, await makeTicket(fx, sender, r1, ETH)));
    expect((await fx.broker.getReserveInfo(sender.address)).fundsRemaining).toBe(0n);
    await mined(fx.bonding.setActive(r1, false));
    try {
      // r0's allocation is now the whole reserve as it stood, but nothing is left to take.
      expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(0n);
    } finally {
      await mined(fx.bonding.setActive(r1, true));
    }
  });
});

describe('front-running an honest recipient (§7, adapted to the stand-ins)', () => {
  // The sender owes an honest recipient (r0) a winning ticket and tries to drain its own deposit and
  // reserve first with a ticket whose faceValue is deposit + reserve and whose recipient it controls.
  const DEPOSIT = ETH;
  const RESERVE = 3n * ETH;

  async function scenario(attackRecipient: string) {
    const sender = await fundedSender(DEPOSIT, RESERVE);
    const honest = await makeTicket(fx, sender, r0, DEPOSIT);
    const attack = await makeTicket(fx, sender, attackRecipient, DEPOSIT + RESERVE);
    return { sender, honest, attack };
  }

  it('1. sybil recipient (not registered): the attack reverts and the honest ticket is paid in full', async () => {
    const { sender, honest, attack } = await scenario((await fx.newAccount()).address);
    expect((await revertOf(redeem(fx.broker, attack))).reason).toBe('transcoder must be registered');
    const feesBefore = await fx.bonding.pendingFees(r0, 0);
    await mined(redeem(fx.broker, honest));
    expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + DEPOSIT);
    expect((await fx.broker.getReserveInfo(sender.address)).fundsRemaining).toBe(RESERVE);
  });

  it('2. registered but inactive recipient: it takes the deposit but none of the reserve', async () => {
    // Mainnet's BondingManager reverts here with Panic(0x12) (zero-stake earnings pool); the
    // stand-in pays registered recipients, so the deposit goes, but an inactive recipient has no
    // reserve allocation and the honest recipient's share is intact.
    const inactive = (await fx.newAccount()).address;
    await mined(fx.bonding.register(inactive));
    const { sender, attack } = await scenario(inactive);
    const attackReceipt = await mined(redeem(fx.broker, attack));
    expect(eventArgs(attackReceipt, fx.broker, 'WinningTicketTransfer')[0].amount).toBe(DEPOSIT);
    expect((await fx.broker.getReserveInfo(sender.address)).fundsRemaining).toBe(RESERVE);

    const share = RESERVE / 2n;
    const feesBefore = await fx.bonding.pendingFees(r0, 0);
    await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, share)));
    expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + share);
  });

  it('3. the sender\u2019s own active recipient: deposit drained, reserve loses only one share', async () => {
    const own = (await fx.newAccount()).address;
    await mined(fx.bonding.register(own));
    await mined(fx.bonding.setActive(own, true));
    try {
      const { sender, attack } = await scenario(own);
      const share = RESERVE / 3n;
      expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(share);

      const attackReceipt = await mined(redeem(fx.broker, attack));
      expect(eventArgs(attackReceipt, fx.broker, 'WinningTicketTransfer')[0].amount).toBe(DEPOSIT + share);
      expect((await fx.broker.getReserveInfo(sender.address)).fundsRemaining).toBe(RESERVE - share);

      // The honest recipient still gets its full allocation from the reserve.
      expect(await fx.broker.claimableReserve(sender.address, r0)).toBe(share);
      const feesBefore = await fx.bonding.pendingFees(r0, 0);
      const honestReceipt = await mined(redeem(fx.broker, await makeTicket(fx, sender, r0, DEPOSIT)));
      expect(eventArgs(honestReceipt, fx.broker, 'ReserveClaimed')[0].amount).toBe(share);
      expect(await fx.bonding.pendingFees(r0, 0)).toBe(feesBefore + share);
    } finally {
      await mined(fx.bonding.setActive(own, false));
    }
  });
});

describe('conformance vectors (shared/vectors/pm-vectors.json)', () => {
  interface VectorTicket {
    ticket: {
      recipient: string;
      sender: string;
      faceValue: string;
      winProb: string;
      senderNonce: number;
      recipientRandHash: string;
      creationRound: string;
      creationRoundBlockHash: string;
    };
    hash: string;
    senderPrivateKey: string;
    recipientRand: string;
  }
  const vectors = (
    JSON.parse(
      readFileSync(new URL('../../../../shared/vectors/pm-vectors.json', import.meta.url), 'utf8'),
    ) as {
      tickets: VectorTicket[];
    }
  ).tickets;

  /** go-livepeer's auxData: empty when both round and hash are zero, else 64 bytes. */
  function vectorAuxData(round: bigint, hash: string): string {
    return round === 0n && hash === ZeroHash ? '0x' : encodeAuxData(round, hash);
  }

  it('getTicketHash reproduces every vector hash (64-byte and empty auxData)', async () => {
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) {
      const ticket: Ticket = {
        ...v.ticket,
        faceValue: BigInt(v.ticket.faceValue),
        winProb: BigInt(v.ticket.winProb),
        senderNonce: BigInt(v.ticket.senderNonce),
        auxData: vectorAuxData(BigInt(v.ticket.creationRound), v.ticket.creationRoundBlockHash),
      };
      expect(await fx.broker.getTicketHash(ticket), v.hash).toBe(v.hash);
      expect(ticketHash(ticket)).toBe(v.hash);
    }
  });

  /** The vector ticket, made redeemable here: real round and hash, a winning winProb, re-signed by its key. */
  async function chainFit(v: VectorTicket, senderNonce: bigint): Promise<SignedTicket> {
    const round = await fx.rounds.currentRound();
    const ticket: Ticket = {
      recipient: v.ticket.recipient,
      sender: v.ticket.sender,
      faceValue: parseEther('0.001'),
      winProb: MAX_WIN_PROB,
      senderNonce,
      recipientRandHash: v.ticket.recipientRandHash,
      auxData: encodeAuxData(round, await fx.rounds.blockHashForRound(round)),
    };
    return resigned(new Wallet(v.senderPrivateKey), ticket, BigInt(v.recipientRand));
  }

  it('redeems tickets signed with every vector key, singly and in one batch of all vectors', async () => {
    const recipient = vectors[0].ticket.recipient;
    await mined(fx.bonding.register(recipient));
    const senders = [...new Set(vectors.map((v) => v.ticket.sender))];
    for (const s of senders) await mined(fx.broker.fundDepositAndReserveFor(s, ETH, 0, { value: ETH }));

    for (const s of senders) {
      const v = vectors.find((x) => x.ticket.sender === s)!;
      expect(new Wallet(v.senderPrivateKey).address).toBe(s);
      const receipt = await mined(redeem(fx.broker, await chainFit(v, BigInt(v.ticket.senderNonce))));
      expect(eventArgs(receipt, fx.broker, 'WinningTicketTransfer')[0].recipient).toBe(recipient);
    }

    const all = await Promise.all(vectors.map((v, i) => chainFit(v, 1_000_000n + BigInt(i))));
    const receipt = await mined(batch(all, 15_000_000));
    expect(eventArgs(receipt, fx.broker, 'WinningTicketRedeemed')).toHaveLength(vectors.length);
    expect(await fx.bonding.pendingFees(recipient, 0)).toBe(
      parseEther('0.001') * BigInt(senders.length + vectors.length),
    );
  });
});
