import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, Scalar, YAMLMap, YAMLSeq, type Document } from 'yaml';

/** The demo broadcaster's client name in the Sender's API tokens file. */
export const DEMO_CLIENT = 'demo-broadcaster';

const HEADER =
  ' Sender API tokens of the local stack (SENDER_API_TOKENS_FILE). npm start keeps your edits: it\n' +
  ' only (re)writes the demo-broadcaster entry. To add a client, append one like it, with a token of\n' +
  ' 16+ characters and the sender accounts it may use (their keystores in demo/keystores/).';

/**
 * Makes the demo broadcaster's entry of the API tokens file name `token` and `sender`, keeping
 * every other client, comment and formatting the user put there: the file is created when missing
 * and written only when the demo's entry was absent or differed. A file that is not a YAML
 * `clients:` list is left as it is and refused with a message saying so.
 */
export function ensureDemoApiToken(file: string, token: string, sender: string): void {
  if (!existsSync(file)) {
    const doc = parseDocument('clients:\n');
    doc.commentBefore = HEADER;
    upsertDemoClient(doc, token, sender);
    writeFileSync(file, doc.toString(), { mode: 0o600 });
    return;
  }
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  const clients = doc.get('clients');
  if (doc.errors.length > 0 || !isMap(doc.contents) || !(isSeq(clients) || clients == null)) {
    // Never echo the file: it holds tokens.
    throw new Error(
      `${file} is not a YAML mapping with a "clients" list (fix it, or delete it to get the demo's back)`,
    );
  }
  if (upsertDemoClient(doc, token, sender)) writeFileSync(file, doc.toString(), { mode: 0o600 });
}

/** Adds or corrects the demo's entry; true when the document changed. */
function upsertDemoClient(doc: Document, token: string, sender: string): boolean {
  if (!isSeq(doc.get('clients'))) doc.set('clients', new YAMLSeq());
  const clients = doc.get('clients') as { items: unknown[] };
  const existing = clients.items.find((c) => isMap(c) && c.get('name') === DEMO_CLIENT) as
    YAMLMap | undefined;
  const senders = existing?.get('senders');
  const current =
    existing !== undefined &&
    existing.get('token') === token &&
    !existing.has('tokenSha256') &&
    isSeq(senders) &&
    senders.items.length === 1 &&
    senders.toJSON()[0] === sender;
  if (current) return false;
  const quoted = (value: string) => Object.assign(new Scalar(value), { type: Scalar.QUOTE_DOUBLE });
  const list = new YAMLSeq();
  list.flow = true;
  list.add(quoted(sender));
  const entry = new YAMLMap();
  entry.set('name', DEMO_CLIENT);
  entry.set('token', quoted(token));
  entry.set('senders', list);
  if (existing) clients.items[clients.items.indexOf(existing)] = entry;
  else clients.items.unshift(entry);
  return true;
}
