import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { bearerOf, tokenDigest } from '#app/runtime';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import type { ApiClient } from './api-tokens.js';

/**
 * API token authentication: `authorization: Bearer <token>` gRPC metadata → the client it belongs to.
 * Nothing of a presented token outlives its call (no cache of tokens or digests): the clients last
 * given to `load` (the tokens file, read at boot) decide every call, so a token taken out of the
 * file stops working as soon as the Sender has loaded the new file.
 */
@Injectable()
export class ApiClients {
  private clients: readonly ApiClient[] = [];

  load(clients: readonly ApiClient[]): void {
    this.clients = clients;
  }

  get size(): number {
    return this.clients.length;
  }

  /**
   * The client whose token the metadata carries. The presented token is hashed and compared with
   * every client's hash in constant time, without stopping at a match, so timing reveals neither
   * the token nor which client matched.
   */
  authenticate(metadata: Metadata | undefined): ApiClient {
    const header = metadata?.get('authorization')[0];
    return this.authenticateBearer(typeof header === 'string' ? header : undefined, 'metadata');
  }

  /** The same for an `Authorization` value of any transport (`where` names it in the error). */
  authenticateBearer(header: string | undefined, where: 'metadata' | 'header'): ApiClient {
    const token = bearerOf(header);
    if (token === undefined) {
      throw new SenderError(
        SenderErrorCode.UNAUTHENTICATED,
        `missing "authorization: Bearer <token>" ${where}`,
      );
    }
    const presented = tokenDigest(token);
    let found: ApiClient | undefined;
    for (const client of this.clients) {
      if (timingSafeEqual(presented, client.tokenHash) && !found) found = client;
    }
    if (!found) throw new SenderError(SenderErrorCode.UNAUTHENTICATED, 'unknown API token');
    return found;
  }

  /** Throws unless `client` may use the account `senderHex`. */
  authorize(client: ApiClient, senderHex: string): void {
    if (!client.senders.has(senderHex)) {
      throw new SenderError(
        SenderErrorCode.ACCOUNT_NOT_PERMITTED,
        `this API token may not use sender ${senderHex}`,
      );
    }
  }
}
