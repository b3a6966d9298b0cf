import { INFRA_ENV, type EnvSchema } from '#app/common';
import { OPS_ENV } from '../apps/ops/src/ops.config.js';
import { RECIPIENT_ENV } from '../apps/recipient/src/recipient.config.js';
import { REDEEMER_ENV } from '../apps/redeemer/src/redeemer.config.js';
import { SENDER_MONITOR_ENV } from '../apps/sender-monitor/src/sender-monitor.config.js';
import { SENDER_ENV } from '../apps/sender/src/sender.config.js';

/**
 * The configuration reference (README) from the config schemas themselves, so the table can never
 * drift from what the services validate (config-reference.spec.ts checks the README holds it):
 * `npm run -s config:reference` prints it.
 */
const SERVICES: [string, EnvSchema][] = [
  ['sender', SENDER_ENV],
  ['recipient', RECIPIENT_ENV],
  ['sender-monitor', SENDER_MONITOR_ENV],
  ['redeemer', REDEEMER_ENV],
  ['ops', OPS_ENV],
];

const show = (v: unknown): string =>
  v === undefined
    ? ''
    : `\`${typeof v === 'bigint' ? v.toString() : JSON.stringify(v).replace(/^"|"$/g, '')}\``;
const row = (name: string, f: EnvSchema[string], who: string): string =>
  `| \`${name}\` | ${f.default !== undefined ? show(f.default) : f.optional ? '(unset)' : '**required**'}${f.secret ? ' · secret' : ''} | ${who} | ${f.description.replace(/[|*]/g, (c) => `\\${c}`)} |`;

/** The table's lines: header, separator, one row per setting. */
export function configReferenceTable(): string[] {
  const lines = ['| variable | default | read by | meaning |', '| --- | --- | --- | --- |'];
  for (const [name, field] of Object.entries(INFRA_ENV)) lines.push(row(name, field, 'all services'));
  // A setting declared once and read by several services (the same field) is one row naming them.
  const rows: { name: string; field: EnvSchema[string]; readers: string[] }[] = [];
  for (const [service, schema] of SERVICES) {
    for (const [name, field] of Object.entries(schema)) {
      if (name in INFRA_ENV) continue;
      const shared = rows.find((r) => r.name === name && r.field === field);
      if (shared) shared.readers.push(service);
      else rows.push({ name, field, readers: [service] });
    }
  }
  for (const r of rows) lines.push(row(r.name, r.field, r.readers.join(', ')));
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  process.stdout.write(`${configReferenceTable().join('\n')}\n`);
}
