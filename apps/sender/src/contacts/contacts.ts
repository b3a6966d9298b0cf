import { MAX_INT64, Rational } from '#app/ticket';
import { isRecord, parseAddressHex } from '../boot/config-files.js';

/** A known recipient (orchestrator). */
export interface Contact {
  readonly alias: string;
  /** Lowercase 0x-hex. */
  readonly addressHex: string;
  readonly serviceUrl?: string;
  /** Largest accepted price per pixel (maxPricePerUnit / pixelsPerUnit); no cap when absent. */
  readonly maxPricePerPixel?: Rational;
}

/** YAML integers arrive as bigints (see readYamlFile); quoted decimal strings are accepted too. */
function nonNegativeInt64(value: unknown): bigint | undefined {
  const n =
    typeof value === 'bigint'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? BigInt(value)
        : undefined;
  return n !== undefined && n >= 0n && n <= MAX_INT64 ? n : undefined;
}

/**
 * Parses the contacts file:
 *
 * ```yaml
 * contacts:
 *   - alias: orch-eu-1
 *     address: "0x…"
 *     serviceUrl: https://orch-eu-1.example.com:8935   # optional
 *     maxPricePerUnit: 1200                            # optional, wei per unit
 *     pixelsPerUnit: 1                                 # optional, default 1
 * ```
 */
export function parseContacts(doc: unknown, source: string, problems: string[]): Contact[] {
  const where = `SENDER_CONTACTS_FILE ${source}`;
  if (!isRecord(doc) || !Array.isArray(doc.contacts)) {
    problems.push(`${where}: expected a mapping with a "contacts" list`);
    return [];
  }
  const contacts: Contact[] = [];
  const aliases = new Set<string>();
  const addresses = new Set<string>();
  doc.contacts.forEach((entry: unknown, i) => {
    const at = `${where}: contacts[${i}]`;
    if (!isRecord(entry)) {
      problems.push(`${at}: expected a mapping`);
      return;
    }
    const { alias, serviceUrl } = entry;
    const addressHex = parseAddressHex(entry.address);
    let ok = true;
    if (typeof alias !== 'string' || alias.trim() === '' || alias.length > 64) {
      problems.push(`${at}: "alias" must be a non-empty string of at most 64 characters`);
      ok = false;
    } else if (aliases.has(alias)) {
      problems.push(`${at}: alias "${alias}" is used twice`);
      ok = false;
    }
    if (addressHex === undefined) {
      problems.push(`${at}: "address" must be a 0x-prefixed 20-byte hex address`);
      ok = false;
    } else if (addresses.has(addressHex)) {
      problems.push(`${at}: address ${addressHex} is listed twice`);
      ok = false;
    }
    if (serviceUrl !== undefined && (typeof serviceUrl !== 'string' || !URL.canParse(serviceUrl))) {
      problems.push(`${at}: "serviceUrl" must be a URL`);
      ok = false;
    }
    let maxPricePerPixel: Rational | undefined;
    if (entry.maxPricePerUnit !== undefined) {
      const perUnit = nonNegativeInt64(entry.maxPricePerUnit);
      const pixels = entry.pixelsPerUnit === undefined ? 1n : nonNegativeInt64(entry.pixelsPerUnit);
      if (perUnit === undefined) {
        problems.push(`${at}: "maxPricePerUnit" must be a non-negative int64 (wei per unit)`);
        ok = false;
      } else if (pixels === undefined || pixels === 0n) {
        problems.push(`${at}: "pixelsPerUnit" must be a positive int64`);
        ok = false;
      } else {
        maxPricePerPixel = Rational.of(perUnit, pixels);
      }
    } else if (entry.pixelsPerUnit !== undefined) {
      problems.push(`${at}: "pixelsPerUnit" only makes sense with "maxPricePerUnit"`);
      ok = false;
    }
    if (!ok) return;
    aliases.add(alias as string);
    addresses.add(addressHex!);
    contacts.push({
      alias: alias as string,
      addressHex: addressHex!,
      serviceUrl: serviceUrl as string | undefined,
      maxPricePerPixel,
    });
  });
  return contacts;
}
