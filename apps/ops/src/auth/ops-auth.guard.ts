import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TokenMatcher, bearerOf } from '#app/runtime';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';
import { BLOCK_HEADER, SIGNATURE_HEADER } from './request-signature.js';
import { SignedRequestVerifier } from './signed-request.verifier.js';

const SIGNED_ALLOWED = Symbol('ops:signed-allowed');

/** Marks a mutating endpoint that a recipient-signed request may call instead of a bearer token. */
export const AllowRecipientSignature = () => SetMetadata(SIGNED_ALLOWED, true);

interface HttpRequest {
  method: string;
  originalUrl: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const header = (req: HttpRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** `Authorization: Bearer <OPS_API_TOKEN>`, or, on endpoints that allow it, a recipient signature. */
@Injectable()
export class OpsAuthGuard implements CanActivate {
  private readonly token: TokenMatcher;

  constructor(
    config: OpsConfig,
    private readonly reflector: Reflector,
    private readonly signatures: SignedRequestVerifier,
  ) {
    this.token = new TokenMatcher(config.values.OPS_API_TOKEN);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== undefined) {
      if (this.token.matches(bearer)) return true;
      throw new OpsError(OpsErrorCode.UNAUTHORIZED, 'the bearer token is not valid');
    }
    const signature = header(req, SIGNATURE_HEADER);
    const allowed = this.reflector.get<boolean | undefined>(SIGNED_ALLOWED, context.getHandler()) === true;
    if (signature !== undefined && allowed) {
      await this.signatures.verify(
        { method: req.method, path: req.originalUrl, body: req.body },
        header(req, BLOCK_HEADER) ?? '',
        signature,
      );
      return true;
    }
    throw new OpsError(
      OpsErrorCode.UNAUTHORIZED,
      allowed
        ? `a bearer token or a recipient signature (${SIGNATURE_HEADER}, ${BLOCK_HEADER}) is required`
        : 'a valid bearer token is required',
    );
  }
}
