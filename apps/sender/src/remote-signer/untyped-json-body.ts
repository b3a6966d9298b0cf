import type { IncomingMessage } from 'node:http';
import { HttpStatus, Injectable, type NestMiddleware } from '@nestjs/common';
import { invalidRequest, RemoteSignerError, RemoteSignerErrorCode } from './remote-signer.error.js';

/** The HTTP server's JSON body limit (express.json's default), kept for bodies read here. */
const MAX_BODY_BYTES = 100 * 1024;

type SignerHttpRequest = IncomingMessage & { body?: unknown; _body?: boolean };

/**
 * go-livepeer decodes the remote signer's request bodies as JSON whatever their Content-Type
 * (none, `text/plain` from a bare `fetch(url, {body: string})`, …). The HTTP server parses only
 * `application/json`; this reads a body it left unread and parses it as JSON, so those clients
 * are answered as go-livepeer answers them. (A form-encoded body was already consumed by the
 * form parser and cannot be recovered: its JSON text lost its `+` signs.)
 */
@Injectable()
export class UntypedJsonBody implements NestMiddleware {
  use(req: SignerHttpRequest, _res: unknown, next: (err?: unknown) => void): void {
    if (req._body === true || !req.readable) {
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.resume();
      next(err);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        fail(
          new RemoteSignerError(RemoteSignerErrorCode.INVALID_REQUEST, 'request body too large', {
            status: HttpStatus.PAYLOAD_TOO_LARGE,
          }),
        );
      } else if (!failed) chunks.push(chunk);
    });
    req.on('error', fail);
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        req.body = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
      } catch (err) {
        fail(invalidRequest('the request body is not JSON', err));
        return;
      }
      req._body = true;
      next();
    });
  }
}
