import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { TokenMatcher, bearerOf } from '#app/runtime';
import { RedeemerConfig } from '../redeemer.config.js';
import { RedeemerError, RedeemerErrorCode } from '#app/clients';

/** `Authorization: Bearer <REDEEMER_OPS_TOKEN>`, compared in constant time. */
@Injectable()
export class OpsTokenGuard implements CanActivate {
  private readonly token?: TokenMatcher;

  constructor(config: RedeemerConfig) {
    const token = config.values.REDEEMER_OPS_TOKEN;
    this.token = token ? new TokenMatcher(token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>()
      .headers.authorization;
    if (!this.token?.matches(bearerOf(header))) {
      throw new RedeemerError(RedeemerErrorCode.UNAUTHORIZED, 'a valid bearer token is required');
    }
    return true;
  }
}
