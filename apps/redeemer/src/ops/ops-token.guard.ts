import { createHash, timingSafeEqual } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RedeemerConfig } from '../redeemer.config.js';
import { RedeemerError, RedeemerErrorCode } from '../redeemer.error.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <REDEEMER_OPS_TOKEN>`, compared in constant time. */
@Injectable()
export class OpsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(config: RedeemerConfig) {
    const token = config.values.REDEEMER_OPS_TOKEN;
    this.expected = token ? digest(token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
      .headers.authorization;
    const m = /^Bearer (\S+)$/.exec(header ?? '');
    if (!this.expected || !m || !timingSafeEqual(digest(m[1]), this.expected)) {
      throw new RedeemerError(RedeemerErrorCode.UNAUTHORIZED, 'a valid bearer token is required');
    }
    return true;
  }
}
