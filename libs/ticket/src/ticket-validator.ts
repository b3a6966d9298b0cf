import { toChecksumAddress } from './address.js';
import {
  TicketCheckStatus,
  packTicketBatch,
  statusFault,
  verifyPackedBatch,
  type PackedTicketBatch,
  type TicketBatchChecks,
} from './batch-verifier.js';
import { ADDRESS_LENGTH, HASH_LENGTH } from './constants.js';
import { assertLength, bytesToHex, equalBytes, isZeroBytes } from './bytes.js';
import type { CryptoBackend } from './crypto/backend.js';
import { selectCryptoBackend } from './crypto/select-backend.js';
import { TicketError, TicketErrorCode, invalidInput } from './errors.js';
import { NonceOutcome, type NonceLedger } from './nonce-ledger.js';
import { paramsExpired } from './params-expiry.js';
import { committedRecipientRand, recipientRandHash, recipientRandInput } from './recipient-rand.js';
import { assertSenderNotUnlocking } from './sender-unlock.js';
import { type SignatureFault, signatureFault, personalDigest } from './signature.js';
import { ticketHash, ticketTemplate } from './ticket-hash.js';
import type { Address, SenderInfo, SignedTicket, TicketBatch, TicketHashFields } from './types.js';
import { isWinningTicket } from './win.js';

/** What O needs to accept tickets: its identity, its HMAC secret and its current chain view. */
export interface RecipientContext {
  /** The recipient address tickets must name (may differ from O's signing key: `-ethOrchAddr`). */
  recipient: Address;
  /** Key of the recipientRand HMAC (§5.1). */
  secret: Uint8Array;
  lastSeenL1Block: bigint;
  lastInitializedRound: bigint;
  /**
   * The batch sender's on-chain state, checked for an unlock at step 2 (§8.3). Omitted only by a
   * caller that validates the sender itself in `beforeRecording` (a SenderMonitor).
   */
  senderInfo?: Pick<SenderInfo, 'withdrawRound'>;
}

/**
 * ValidateTicket steps 1–3 (§6): the checks every ticket of a batch shares. `recipientRand` is
 * the one that matched the ticket's recipientRandHash, undefined when none did.
 */
function validateSharedFields(
  recipient: Address,
  ticket: Pick<TicketHashFields, 'recipient' | 'sender'>,
  recipientRand: bigint | undefined,
): asserts recipientRand is bigint {
  if (!equalBytes(ticket.recipient, recipient)) {
    throw new TicketError(TicketErrorCode.INVALID_RECIPIENT, 'invalid ticket recipient');
  }
  if (isZeroBytes(ticket.sender))
    throw new TicketError(TicketErrorCode.INVALID_SENDER, 'invalid ticket sender');
  if (recipientRand === undefined) {
    throw new TicketError(
      TicketErrorCode.INVALID_RECIPIENT_RAND,
      'invalid recipientRand for ticket recipientRandHash',
    );
  }
}

function invalidSignature(fault: SignatureFault): TicketError {
  return new TicketError(TicketErrorCode.INVALID_SIGNATURE, 'invalid ticket signature', { cause: fault });
}

/**
 * go-livepeer's `Validator.ValidateTicket` (§6) for one ticket: recipient, non-zero sender,
 * the recipientRand commitment, then the signature. Throws the first failure as a TicketError;
 * the signature failure carries its SignatureFault as `cause`.
 */
export function validateTicket(
  recipient: Address,
  ticket: TicketHashFields,
  sig: Uint8Array,
  recipientRand: bigint,
  backend: CryptoBackend = selectCryptoBackend(),
): void {
  assertLength(recipient, ADDRESS_LENGTH, 'recipient');
  const hash = ticketHash(ticket);
  const committed = equalBytes(recipientRandHash(recipientRand), ticket.recipientRandHash);
  validateSharedFields(recipient, ticket, committed ? recipientRand : undefined);
  const fault = signatureFault(ticket.sender, personalDigest(hash), sig, backend);
  if (fault) throw invalidSignature(fault);
}

/** `validateTicket` followed by the lottery: whether a valid ticket wins. */
export function validateWinningTicket(
  recipient: Address,
  ticket: TicketHashFields,
  sig: Uint8Array,
  recipientRand: bigint,
  backend: CryptoBackend = selectCryptoBackend(),
): boolean {
  validateTicket(recipient, ticket, sig, recipientRand, backend);
  return isWinningTicket(sig, recipientRand, ticket.winProb);
}

/** Runs the per-ticket cryptography of a batch; in this thread or on the worker pool. */
export type BatchVerifier = (batch: PackedTicketBatch) => TicketBatchChecks | Promise<TicketBatchChecks>;

/** A BatchVerifier running on the calling thread; synchronous, so callers may schedule it themselves. */
export function inThreadVerifier(
  backend: CryptoBackend = selectCryptoBackend(),
): (batch: PackedTicketBatch) => TicketBatchChecks {
  return (batch) => verifyPackedBatch(batch, backend);
}

/** The outcome of one ticket of a received batch. */
export interface ReceivedTicket {
  senderNonce: number;
  ticketHash: Uint8Array;
  /** The lottery result; false for a ticket with an invalid signature. */
  won: boolean;
  /**
   * Set when the ticket must not be credited; always acceptable (non-fatal): INVALID_SIGNATURE,
   * NONCE_ALREADY_SEEN, TOO_MANY_NONCES or PARAMS_EXPIRED.
   */
  error?: TicketError;
  /**
   * Present for every winner, errors included: go-livepeer still queues a winning ticket whose
   * nonce was replayed or whose params expired (§11.2); the chain settles such cases.
   */
  signedTicket?: SignedTicket;
}

export interface ReceiveOptions {
  ledger: NonceLedger;
  /** Defaults to verification on this thread with the selected backend. */
  verify?: BatchVerifier;
  /**
   * Runs after the shared checks and the signatures, right before the valid tickets' nonces are
   * recorded: where a caller puts checks of its own that must refuse the whole batch without
   * changing anything (a throw propagates, nothing recorded). Skipped when no ticket has a valid
   * signature, so each keeps its own INVALID_SIGNATURE. Told how many tickets have a valid
   * signature (the nonces about to be recorded) and how many of those won.
   */
  beforeRecording?: (valid: ValidTickets) => void | Promise<void>;
  /**
   * Tickets on params expired at `ctx.lastSeenL1Block`: `acceptable` (go-livepeer's step 6, the
   * default) records their nonces and gives each the acceptable PARAMS_EXPIRED, winners still
   * returned for queuing; `refuse` refuses the whole batch with PARAMS_EXPIRED before anything is
   * recorded, where beforeRecording would run (so when no signature is valid, each ticket keeps
   * its INVALID_SIGNATURE).
   */
  expiredParams?: 'acceptable' | 'refuse';
}

/** What `beforeRecording` is told about the tickets whose nonces are about to be recorded. */
export interface ValidTickets {
  count: number;
  winning: number;
  /** Their nonces, in the order they are recorded. */
  nonces: readonly number[];
  /** The winners among them, in batch order (a caller may store them before the nonces are recorded). */
  winners: readonly SignedTicket[];
}

/** The acceptable error for a refused nonce; the checksum is only computed for an error. */
function nonceError(outcome: NonceOutcome, sender: Address, nonce: number): TicketError | undefined {
  switch (outcome) {
    case NonceOutcome.RECORDED:
      return undefined;
    case NonceOutcome.ALREADY_SEEN:
      return new TicketError(
        TicketErrorCode.NONCE_ALREADY_SEEN,
        `invalid ticket senderNonce: already seen sender=${toChecksumAddress(sender)} nonce=${nonce}`,
      );
    case NonceOutcome.TOO_MANY:
      return new TicketError(
        TicketErrorCode.TOO_MANY_NONCES,
        `invalid ticket senderNonce: too many values sender=${toChecksumAddress(sender)} nonce=${nonce}`,
      );
  }
}

/**
 * go-livepeer's `ReceiveTicket` (§5.4) over a whole batch. The steps every ticket shares run
 * once: recipientRand from the HMAC, the sender's unlock state, recipient, sender and the
 * commitment; their failures are fatal and thrown before any ticket is looked at. Per ticket:
 * signature (acceptable failure, nonce not recorded), lottery, then the caller's
 * `beforeRecording` checks, nonce (acceptable failures), and finally params expiry (acceptable,
 * after the nonce was recorded). A batch without tickets passes without checks, as go-livepeer's
 * loop does.
 */
export async function receiveTicketBatch(
  batch: TicketBatch,
  ctx: RecipientContext,
  options: ReceiveOptions,
): Promise<ReceivedTicket[]> {
  if (batch.senderParams.length === 0) return [];
  assertLength(ctx.recipient, ADDRESS_LENGTH, 'recipient');
  const { params, sender } = batch;
  assertLength(sender, ADDRESS_LENGTH, 'sender');
  assertLength(params.recipientRandHash, HASH_LENGTH, 'recipientRandHash');

  if (!ctx.senderInfo && !options.beforeRecording) {
    throw invalidInput('senderInfo is required unless beforeRecording validates the sender');
  }

  const recipientRand = committedRecipientRand(
    ctx.secret,
    recipientRandInput(batch),
    params.recipientRandHash,
  );
  if (ctx.senderInfo) assertSenderNotUnlocking(sender, ctx.senderInfo, ctx.lastInitializedRound);
  const template = ticketTemplate(batch);
  validateSharedFields(ctx.recipient, template, recipientRand);

  const verify = options.verify ?? inThreadVerifier();
  const checks = await verify(packTicketBatch(template, recipientRand, batch.senderParams));

  const validNonces: number[] = [];
  /** The signed ticket of each winner, by batch index. */
  const winners = new Map<number, SignedTicket>();
  for (let i = 0; i < batch.senderParams.length; i++) {
    if (statusFault(checks.status[i]) !== null) continue;
    const { senderNonce, sig } = batch.senderParams[i];
    validNonces.push(senderNonce);
    if ((checks.status[i] as TicketCheckStatus) === TicketCheckStatus.VALID_WON) {
      winners.set(i, {
        ...template,
        senderNonce,
        paramsExpirationBlock: params.expirationBlock,
        sig,
        recipientRand,
      });
    }
  }
  const expired = paramsExpired(params.expirationBlock, ctx.lastSeenL1Block);
  if (validNonces.length > 0) {
    if (expired && options.expiredParams === 'refuse') {
      throw new TicketError(TicketErrorCode.PARAMS_EXPIRED, 'TicketParams expired');
    }
    await options.beforeRecording?.({
      count: validNonces.length,
      winning: winners.size,
      nonces: validNonces,
      winners: [...winners.values()],
    });
  }
  const nonceOutcomes = await options.ledger.record(
    bytesToHex(params.recipientRandHash),
    params.expirationBlock,
    validNonces,
  );
  if (nonceOutcomes.length !== validNonces.length) {
    throw new Error(`NonceLedger returned ${nonceOutcomes.length} outcomes for ${validNonces.length} nonces`);
  }
  const received: ReceivedTicket[] = [];
  let validIndex = 0;
  for (let i = 0; i < batch.senderParams.length; i++) {
    const { senderNonce } = batch.senderParams[i];
    const hash = checks.hashes.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH);
    const status = checks.status[i] as TicketCheckStatus;
    const fault = statusFault(status);
    if (fault) {
      received.push({ senderNonce, ticketHash: hash, won: false, error: invalidSignature(fault) });
      continue;
    }
    const won = status === TicketCheckStatus.VALID_WON;
    const outcome = nonceOutcomes[validIndex++];
    let error = nonceError(outcome, sender, senderNonce);
    if (!error && expired) error = new TicketError(TicketErrorCode.PARAMS_EXPIRED, 'TicketParams expired');
    received.push({ senderNonce, ticketHash: hash, won, error, signedTicket: winners.get(i) });
  }
  return received;
}
