/**
 * Checks a PM conformance vector file (the format of shared/vectors/pm-vectors.json) against
 * #app/ticket with every crypto backend available here.
 *
 *   npm run -s conformance -- <file.json>
 *
 * Prints one line per failed check, then `N passed, M failed`; exits 1 when anything failed
 * and 2 when the file cannot be used at all.
 */
import { readFileSync } from 'node:fs';
import {
  MAX_WIN_PROB,
  Rational,
  TicketError,
  availableBackends,
  bytesToHex,
  computeRecipientRand,
  equalBytes,
  hexToBytes,
  isWinningTicket,
  parseAddress,
  recipientRandHash,
  ticketEV,
  ticketHash,
  uint256Bytes,
  verifyTicketSignature,
  winProbForEV,
  winRandomness,
  type TicketHashFields,
} from '#app/ticket';

type Json = Record<string, unknown>;

/** A malformed vector: reported as that case's failure, the other cases still run. */
class VectorError extends Error {}

function obj(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new VectorError(`${field} must be an object`);
  return value as Json;
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new VectorError(`${field} must be a string`);
  return value;
}

function dec(value: unknown, field: string): bigint {
  const s = str(value, field);
  if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new VectorError(`${field} must be a non-negative decimal string`);
  return BigInt(s);
}

function hex(value: unknown, field: string, length?: number): Uint8Array {
  try {
    return hexToBytes(str(value, field), field, length);
  } catch (error) {
    throw error instanceof TicketError ? new VectorError(error.message) : error;
  }
}

function addr(value: unknown, field: string): Uint8Array {
  try {
    return parseAddress(str(value, field), field);
  } catch (error) {
    throw error instanceof TicketError ? new VectorError(error.message) : error;
  }
}

function hexInt(value: unknown, field: string): bigint {
  const bytes = hex(value, field);
  if (bytes.length > 32) throw new VectorError(`${field} exceeds 32 bytes`);
  return bytes.length === 0 ? 0n : BigInt(bytesToHex(bytes));
}

function rational(value: unknown, field: string): Rational {
  const r = obj(value, field);
  const den = dec(r.den, `${field}.den`);
  if (den === 0n) throw new VectorError(`${field}.den must not be 0`);
  return Rational.of(dec(r.num, `${field}.num`), den);
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new VectorError(`${field} must be an array`);
  return value;
}

function parseTicket(value: unknown, field: string): TicketHashFields {
  const t = obj(value, field);
  const nonce = t.senderNonce;
  if (typeof nonce !== 'number' || !Number.isInteger(nonce) || nonce < 0 || nonce > 0xffff_ffff) {
    throw new VectorError(`${field}.senderNonce must be a uint32 number`);
  }
  const uint256 = (v: unknown, name: string): bigint => {
    const n = dec(v, `${field}.${name}`);
    if (n > MAX_WIN_PROB) throw new VectorError(`${field}.${name} exceeds 256 bits`);
    return n;
  };
  return {
    recipient: addr(t.recipient, `${field}.recipient`),
    sender: addr(t.sender, `${field}.sender`),
    faceValue: uint256(t.faceValue, 'faceValue'),
    winProb: uint256(t.winProb, 'winProb'),
    senderNonce: nonce,
    recipientRandHash: hex(t.recipientRandHash, `${field}.recipientRandHash`, 32),
    creationRound: uint256(t.creationRound, 'creationRound'),
    creationRoundBlockHash: hex(t.creationRoundBlockHash, `${field}.creationRoundBlockHash`, 32),
  };
}

const backends = availableBackends();
const failures: string[] = [];
let passed = 0;
let failed = 0;

/** Runs one case: every mismatch it reports becomes a line, and the case fails if there is any. */
function runCase(label: string, check: (fail: (what: string) => void) => void): void {
  const before = failures.length;
  try {
    check((what) => failures.push(`${label}: ${what}`));
  } catch (error) {
    if (!(error instanceof VectorError || error instanceof TicketError)) throw error;
    failures.push(`${label}: invalid vector: ${error.message}`);
  }
  if (failures.length > before) failed++;
  else passed++;
}

function expectEqual(fail: (what: string) => void, what: string, expected: string, actual: string): void {
  if (expected !== actual) fail(`${what} expected ${expected}, got ${actual}`);
}

function checkTicket(value: unknown, label: string, fail: (what: string) => void): void {
  const v = obj(value, label);
  const ticket = parseTicket(v.ticket, 'ticket');
  const sig = hex(v.sig, 'sig');
  const recipientRand = hexInt(v.recipientRand, 'recipientRand');
  const hash = ticketHash(ticket);
  expectEqual(fail, 'hash', str(v.hash, 'hash').toLowerCase(), bytesToHex(hash));
  for (const backend of backends) {
    if (!verifyTicketSignature(ticket.sender, hash, sig, backend)) {
      fail(`signature does not verify for the sender (${backend.name} backend)`);
    }
    if (v.senderPrivateKey !== undefined) {
      const key = hex(v.senderPrivateKey, 'senderPrivateKey', 32);
      if (!equalBytes(backend.addressOf(key), ticket.sender)) {
        fail(`senderPrivateKey does not belong to the sender (${backend.name} backend)`);
      }
    }
  }
  if (typeof v.isWinning !== 'boolean') throw new VectorError('isWinning must be a boolean');
  expectEqual(
    fail,
    'isWinning',
    String(v.isWinning),
    String(isWinningTicket(sig, recipientRand, ticket.winProb)),
  );
  if (v.winRandom !== undefined) {
    expectEqual(
      fail,
      'winRandom',
      str(v.winRandom, 'winRandom').toLowerCase(),
      bytesToHex(uint256Bytes(winRandomness(sig, recipientRand))),
    );
  }
  const ev = obj(v.ev, 'ev');
  const expectedEV = `${dec(ev.num, 'ev.num')}/${dec(ev.den, 'ev.den')}`;
  expectEqual(fail, 'ev', expectedEV, ticketEV(ticket.faceValue, ticket.winProb).toString());
}

function checkInvalidSignatures(group: Json, groupLabel: string, tickets: unknown[]): void {
  const cases = list(group.cases, `${groupLabel}.cases`);
  let ticket: TicketHashFields | undefined;
  let sender: Uint8Array | undefined;
  let setupError: string | undefined;
  try {
    const index = group.ticketIndex;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= tickets.length) {
      throw new VectorError('ticketIndex must point into tickets');
    }
    ticket = parseTicket(obj(tickets[index], `tickets[${index}]`).ticket, `tickets[${index}].ticket`);
    sender = group.sender === undefined ? ticket.sender : addr(group.sender, 'sender');
  } catch (error) {
    if (!(error instanceof VectorError || error instanceof TicketError)) throw error;
    setupError = error.message;
  }
  cases.forEach((value, i) =>
    runCase(`${groupLabel}.cases[${i}]`, (fail) => {
      if (setupError || !ticket || !sender) throw new VectorError(setupError ?? 'no ticket');
      const c = obj(value, 'case');
      const sig = hex(c.sig, 'sig');
      const hash = ticketHash(ticket);
      for (const backend of backends) {
        if (verifyTicketSignature(sender, hash, sig, backend)) {
          fail(
            `accepted a signature that must be rejected (${typeof c.why === 'string' ? c.why : 'no reason given'}, ${backend.name} backend)`,
          );
        }
      }
    }),
  );
}

function checkRecipientRand(value: unknown, label: string, fail: (what: string) => void): void {
  const v = obj(value, label);
  const rand = computeRecipientRand(hex(v.secret, 'secret'), {
    seed: dec(v.seed, 'seed'),
    sender: addr(v.sender, 'sender'),
    faceValue: dec(v.faceValue, 'faceValue'),
    winProb: dec(v.winProb, 'winProb'),
    expirationBlock: dec(v.expirationBlock, 'expirationBlock'),
    pricePerPixel: rational(v.pricePerPixel, 'pricePerPixel'),
    creationRound: dec(v.creationRound, 'creationRound'),
    creationRoundBlockHash: hex(v.creationRoundBlockHash, 'creationRoundBlockHash', 32),
  });
  expectEqual(
    fail,
    'recipientRand',
    bytesToHex(hex(v.recipientRand, 'recipientRand', 32)),
    bytesToHex(uint256Bytes(rand)),
  );
  if (v.recipientRandHash !== undefined) {
    expectEqual(
      fail,
      'recipientRandHash',
      bytesToHex(hex(v.recipientRandHash, 'recipientRandHash', 32)),
      bytesToHex(recipientRandHash(rand)),
    );
  }
}

function checkWinProbFromEV(value: unknown, label: string, fail: (what: string) => void): void {
  const v = obj(value, label);
  const winProb = winProbForEV(dec(v.ev, 'ev'), dec(v.faceValue, 'faceValue'));
  expectEqual(fail, 'winProb', dec(v.winProb, 'winProb').toString(), winProb.toString());
}

function runFile(vectors: Json): void {
  const sections = ['tickets', 'invalidSignatures', 'recipientRand', 'winProbFromEV'];
  if (!sections.some((name) => name in vectors)) {
    throw new VectorError(`no vector sections (${sections.join(', ')}) in the file`);
  }
  // The file's own scale constant is a precondition of its cases, not a case: it only counts
  // when it is wrong.
  if (vectors.maxWinProb !== undefined && vectors.maxWinProb !== MAX_WIN_PROB.toString()) {
    failures.push(`maxWinProb: expected ${MAX_WIN_PROB}, got ${JSON.stringify(vectors.maxWinProb)}`);
    failed++;
  }
  const section = (name: string, each: (value: unknown, label: string) => void): void => {
    if (vectors[name] === undefined) return;
    if (!Array.isArray(vectors[name])) {
      runCase(name, () => {
        throw new VectorError(`${name} must be an array`);
      });
      return;
    }
    (vectors[name] as unknown[]).forEach((value, i) => each(value, `${name}[${i}]`));
  };
  const tickets = Array.isArray(vectors.tickets) ? (vectors.tickets as unknown[]) : [];
  section('tickets', (value, label) => runCase(label, (fail) => checkTicket(value, label, fail)));
  if (vectors.invalidSignatures !== undefined) {
    // One group ({ticketIndex, sender, cases}) as in the shared file, or a list of groups.
    const groups = Array.isArray(vectors.invalidSignatures)
      ? vectors.invalidSignatures
      : [vectors.invalidSignatures];
    groups.forEach((group, i) => {
      const label = Array.isArray(vectors.invalidSignatures)
        ? `invalidSignatures[${i}]`
        : 'invalidSignatures';
      try {
        checkInvalidSignatures(obj(group, label), label, tickets);
      } catch (error) {
        if (!(error instanceof VectorError)) throw error;
        runCase(label, () => {
          throw error;
        });
      }
    });
  }
  section('recipientRand', (value, label) =>
    runCase(label, (fail) => checkRecipientRand(value, label, fail)),
  );
  section('winProbFromEV', (value, label) =>
    runCase(label, (fail) => checkWinProbFromEV(value, label, fail)),
  );
}

function main(args: string[]): number {
  const file = args.find((arg) => arg !== '--');
  if (!file) {
    console.error('usage: npm run -s conformance -- <vectors.json>');
    return 2;
  }
  let vectors: Json;
  try {
    vectors = obj(JSON.parse(readFileSync(file, 'utf8')), 'the vector file');
    runFile(vectors);
  } catch (error) {
    console.error(`cannot check ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  for (const line of failures) console.log(line);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
