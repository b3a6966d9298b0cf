import type { IncomingMessage } from 'node:http';
import { HttpStatus } from '@nestjs/common';
import { parseGoJson } from './go-json.js';
import { invalidRequest, RemoteSignerError, RemoteSignerErrorCode } from './remote-signer.error.js';

/** The HTTP server's JSON body limit (express.json's default, 100 kB), kept for signer bodies. */
const MAX_BODY_BYTES = 100 * 1024;
/**
 * A BYOC job's body is signed whole (the Python SDK's legacy request carries the job's input, an
 * image say): 1 MiB, go-livepeer's bound where it sets one (the BYOC branch followed).
 */
const MAX_BYOC_BODY_BYTES = 1024 * 1024;

/**
 * The remote signer's paths. Case-insensitive and with an optional trailing slash, as the HTTP
 * router matches them, so every request that reaches the signer controller is covered.
 */
export const SIGNER_PATH =
  /^\/(sign-orchestrator-info|generate-live-payment|sign-byoc-job|discover-orchestrators)\/?$/i;

type SignerHttpRequest = IncomingMessage & { body?: unknown };

/**
 * go-livepeer decodes the signer's request bodies as JSON whatever their Content-Type (none,
 * `text/plain` from a bare `fetch(url, {body: string})`, a form type, …). Mounted ahead of the
 * HTTP server's JSON and form parsers (HttpModuleDefinition.beforeBodyParsers), this reads the
 * body of every request to a signer path as UTF-8 text into `req.body` (the parsers then skip the
 * finished request); the handlers parse it (signerJson). Over 100 kB (a BYOC job: 1 MiB): 413, as
 * the parsers answer.
 */
export function readSignerBody(req: SignerHttpRequest, _res: unknown, next: (err?: unknown) => void): void {
  const path = (req.url ?? '').split('?', 1)[0];
  const route = SIGNER_PATH.exec(path)?.[1].toLowerCase();
  if (route === undefined || !req.readable) {
    next();
    return;
  }
  const limit = route === 'sign-byoc-job' ? MAX_BYOC_BODY_BYTES : MAX_BODY_BYTES;
  const tooLarge = () =>
    new RemoteSignerError(RemoteSignerErrorCode.INVALID_REQUEST, 'request body too large', {
      status: HttpStatus.PAYLOAD_TOO_LARGE,
    });
  // Refused unread when the declared length already says so; the rest is drained, not kept.
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    next(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (err?: unknown) => {
    if (done) return;
    done = true;
    if (err !== undefined) req.resume();
    next(err);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) finish(tooLarge());
    else if (!done) chunks.push(chunk);
  });
  req.on('error', finish);
  req.on('end', () => {
    if (done) return;
    req.body = Buffer.concat(chunks).toString('utf8');
    finish();
  });
}

/**
 * The JSON value of a signer body read by readSignerBody, numbers' text kept (parseGoJson). As
 * go-livepeer's `json.NewDecoder(r.Body).Decode` (both generate-live-payment and sign-byoc-job),
 * only the first JSON value is read: whatever follows it is ignored, not refused. An empty body is
 * `{}` (Go answers it 400 `EOF`; read as `{}` it is refused 400 by the request's own checks).
 */
export function signerJson(body: unknown): unknown {
  if (typeof body !== 'string') {
    // Only a boot that skipped SenderModule's beforeBodyParsers gets here: a bug, not the caller's.
    throw new Error('the remote signer body was not read raw (readSignerBody not mounted)');
  }
  if (/^[ \t\r\n]*$/.test(body)) return {};
  try {
    return parseGoJson(body, { firstValue: true });
  } catch (err) {
    throw invalidRequest('the request body is not JSON', err);
  }
}
