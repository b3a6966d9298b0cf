import { tokenDigest } from '#app/runtime';
import { uint256Text } from '#app/ticket';
import { isRecord, parseAddressHex } from '../boot/config-files.js';

/** A client of the Sender API: who it is (for logs and metrics) and which accounts it may use. */
export interface ApiClient {
  readonly name: string;
  /** SHA-256 of the token (tokenDigest): the token itself is not kept; digests compare in constant time. */
  readonly tokenHash: Buffer;
  /** Lowercase 0x-hex addresses. */
  readonly senders: ReadonlySet<string>;
  /** What this token may have signed, shared by all replicas (see SpendCaps); none when absent. */
  readonly spendCap?: SpendCap;
}

/** Limits on what one token may have signed, in wei, per window or in total. */
export interface SpendCap {
  /** Sum of the tickets' expected values. */
  readonly maxEV?: bigint;
  /** Sum of the tickets' face values (what the deposit risks). */
  readonly maxFaceValue?: bigint;
  /** Window length; absent = since the cap was first used (kept as long as Redis keeps it). */
  readonly windowSeconds?: number;
}

/** Shorter tokens are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Parses the API tokens file:
 *
 * ```yaml
 * clients:
 *   - name: studio-gateway            # shown in logs and metrics, never the token
 *     token: "…"                      # or tokenSha256: "<64 hex digits>"
 *     senders: ["0x…", "0x…"]         # accounts this token may use
 *     spendCap:                       # optional, wei; shared by all replicas through Redis
 *       maxEV: "50000000000000000"    # total EV of the tickets signed
 *       maxFaceValue: "…"             # total face value of the tickets signed
 *       windowSeconds: 3600           # per window; omit for a total
 * ```
 *
 * Problems name the client and field, never a token.
 */
export function parseApiTokens(doc: unknown, source: string, problems: string[]): ApiClient[] {
  const where = `SENDER_API_TOKENS_FILE ${source}`;
  if (!isRecord(doc) || !Array.isArray(doc.clients)) {
    problems.push(`${where}: expected a mapping with a "clients" list`);
    return [];
  }
  const clients: ApiClient[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  doc.clients.forEach((entry: unknown, i) => {
    const at = `${where}: clients[${i}]`;
    if (!isRecord(entry)) {
      problems.push(`${at}: expected a mapping`);
      return;
    }
    const name = entry.name;
    if (typeof name !== 'string' || !/^[\w.:@-]{1,64}$/.test(name)) {
      problems.push(`${at}: "name" must be 1–64 characters of letters, digits and . : @ _ -`);
      return;
    }
    if (names.has(name)) problems.push(`${at}: name "${name}" is used twice`);
    names.add(name);

    let tokenHash: Buffer | undefined;
    const { token, tokenSha256 } = entry;
    if ((token === undefined) === (tokenSha256 === undefined)) {
      problems.push(`${at} (${name}): give exactly one of "token" and "tokenSha256"`);
    } else if (token !== undefined) {
      if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
        problems.push(
          `${at} (${name}): "token" must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
        );
      } else {
        tokenHash = tokenDigest(token);
      }
    } else if (typeof tokenSha256 !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(tokenSha256)) {
      problems.push(`${at} (${name}): "tokenSha256" must be 64 hex digits`);
    } else {
      tokenHash = Buffer.from(tokenSha256.replace(/^0x/, ''), 'hex');
    }
    if (tokenHash) {
      const key = tokenHash.toString('hex');
      if (hashes.has(key)) problems.push(`${at} (${name}): the same token is given to another client`);
      hashes.add(key);
    }

    const senders = new Set<string>();
    if (!Array.isArray(entry.senders) || entry.senders.length === 0) {
      problems.push(`${at} (${name}): "senders" must be a non-empty list of addresses`);
    } else {
      for (const raw of entry.senders as unknown[]) {
        const address = parseAddressHex(raw);
        if (address === undefined) problems.push(`${at} (${name}): ${JSON.stringify(raw)} is not an address`);
        else senders.add(address);
      }
    }
    const spendCap = parseSpendCap(entry.spendCap, `${at} (${name})`, problems);
    if (tokenHash) clients.push({ name, tokenHash, senders, ...(spendCap ? { spendCap } : {}) });
  });
  return clients;
}

function parseSpendCap(raw: unknown, at: string, problems: string[]): SpendCap | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) {
    problems.push(`${at}: "spendCap" must be a mapping`);
    return undefined;
  }
  const wei = (key: 'maxEV' | 'maxFaceValue'): bigint | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    // YAML integers arrive as bigints (readYamlFile); quoted decimal strings are taken too.
    const text = typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)) ? String(v) : v;
    const amount = uint256Text(text);
    if (amount === undefined || amount === 0n) {
      problems.push(
        `${at}: "spendCap.${key}" must be a positive whole number of wei (a string for large values)`,
      );
      return undefined;
    }
    return amount;
  };
  const maxEV = wei('maxEV');
  const maxFaceValue = wei('maxFaceValue');
  const rawWindow = raw.windowSeconds;
  const window =
    typeof rawWindow === 'bigint' && rawWindow <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(rawWindow)
      : rawWindow;
  if (window !== undefined && (!Number.isSafeInteger(window) || (window as number) < 1)) {
    problems.push(`${at}: "spendCap.windowSeconds" must be a positive whole number of seconds`);
  }
  if (maxEV === undefined && maxFaceValue === undefined) {
    problems.push(`${at}: "spendCap" needs maxEV and/or maxFaceValue`);
    return undefined;
  }
  return {
    ...(maxEV !== undefined ? { maxEV } : {}),
    ...(maxFaceValue !== undefined ? { maxFaceValue } : {}),
    ...(typeof window === 'number' ? { windowSeconds: window } : {}),
  };
}
