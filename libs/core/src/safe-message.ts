/** Anything URL-shaped: RPC, database and Redis URLs can embed API keys and passwords. */
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/**
 * An error's message with every URL replaced by `[url]`, safe to log or answer. ethers puts the
 * request URL in the message of an HTTP error from the RPC (`info={ "requestUrl": … }`).
 */
export function safeErrorMessage(err: unknown): string {
  return withoutUrls(err instanceof Error ? err.message : String(err));
}

/** `text` with every URL replaced by `[url]`. */
export function withoutUrls(text: string): string {
  return text.replace(URL_PATTERN, '[url]');
}
