/** Shortest user name taken for a key on its own (`https://<key>@host`); shorter ones ("ops") are plain account names. */
const KEY_LIKE_USERNAME = 8;

/**
 * The RPC URL may embed an API key (in its path, query, password or user name): none of them
 * ever reaches a log or a client. Each part is replaced as the URL spells it and decoded, since
 * an error may quote either.
 */
export function redact(message: string, url: string): string {
  let out = replaceAll(message, url, '[rpc]');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return out; // not a URL: the plain replacement above is all we can do
  }
  out = replaceAll(out, u.href, '[rpc]');
  for (const search of spellings(u.search)) out = replaceAll(out, search, '?[redacted]');
  for (const path of spellings(u.pathname)) if (path.length > 1) out = replaceAll(out, path, '/[redacted]');
  for (const password of spellings(u.password)) out = replaceAll(out, password, '[redacted]');
  for (const user of spellings(u.username)) {
    out = replaceAll(out, `${user}@`, '[redacted]@')
      .split(`${user}:[redacted]`)
      .join('[redacted]:[redacted]');
    if (user.length >= KEY_LIKE_USERNAME) out = replaceAll(out, user, '[redacted]');
  }
  return out;
}

function replaceAll(text: string, part: string, by: string): string {
  return part ? text.split(part).join(by) : text;
}

/** A URL part as the URL spells it and, when that differs, percent-decoded. */
function spellings(part: string): string[] {
  if (!part) return [];
  try {
    const decoded = decodeURIComponent(part);
    return decoded === part ? [part] : [part, decoded];
  } catch {
    return [part];
  }
}
