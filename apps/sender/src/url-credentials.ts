/** A URL split as Go's HTTP client sends it: the URL without its userinfo, and that userinfo as Basic auth. */
export interface SplitUrl {
  target: URL;
  /** `Basic …` from the URL's user:password@; undefined when it has none. */
  basicAuth?: string;
}

/**
 * Go sends a URL's user:password@ as an HTTP Basic `Authorization` header (unless the request sets
 * that header itself), so a go-livepeer webhook URL may carry it, as may a Web3Signer URL; Node's
 * fetch refuses such a URL outright. The target keeps everything else (query included).
 */
export function splitUrlCredentials(url: string): SplitUrl {
  const target = new URL(url);
  if (target.username === '' && target.password === '') return { target };
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  target.username = '';
  target.password = '';
  return { target, basicAuth: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
