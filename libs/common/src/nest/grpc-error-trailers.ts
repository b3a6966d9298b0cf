import { Metadata } from '@grpc/grpc-js';

/**
 * The gRPC trailers that carry a coded failure's `AppError` code and domain, on every service's
 * answers (the exception filters, the malformed-request backstop, grpc-js's own size refusals)
 * and read back by every client. Part of the wire contract: renaming one breaks deployed clients.
 */
export const ERROR_CODE_TRAILER = 'error-code';
export const ERROR_DOMAIN_TRAILER = 'error-domain';

/** Sets a coded failure's trailers on `metadata` (a new one by default) and returns it. */
export function setErrorTrailers(code: string, domain: string, metadata = new Metadata()): Metadata {
  metadata.set(ERROR_CODE_TRAILER, code);
  metadata.set(ERROR_DOMAIN_TRAILER, domain);
  return metadata;
}

/** The code and domain a failed call's trailers carry; undefined where the service set none. */
export function readErrorTrailers(metadata: Metadata | null | undefined): { code?: string; domain?: string } {
  const first = (name: string) => metadata?.get(name)[0]?.toString();
  return { code: first(ERROR_CODE_TRAILER), domain: first(ERROR_DOMAIN_TRAILER) };
}
