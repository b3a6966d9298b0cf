/** The RPC URL may embed an API key: neither it nor its path ever reaches a log or a client. */
export function redact(message: string, url: string): string {
  let out = message.split(url).join('[rpc]');
  try {
    const u = new URL(url);
    if (u.pathname.length > 1) out = out.split(u.pathname).join('/[redacted]');
    if (u.search) out = out.split(u.search).join('?[redacted]');
    if (u.password) out = out.split(u.password).join('[redacted]');
  } catch {
    // not a URL: the plain replacement above is all we can do
  }
  return out;
}
