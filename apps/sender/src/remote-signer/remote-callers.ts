import { Injectable } from '@nestjs/common';
import { hexToBytes } from '#app/ticket';
import { SenderAccounts } from '../accounts/sender-accounts.js';
import type { SenderAccount } from '../accounts/keystore-loader.js';
import { ApiClients } from '../auth/api-clients.js';
import type { ApiClient } from '../auth/api-tokens.js';
import { parseAddressHex } from '../boot/config-files.js';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import { SenderService } from '../session/sender.service.js';

/** Header naming the sender account when the caller may use several. */
export const SENDER_HEADER = 'ticketpay-sender';

/** Who calls the remote signer and which account signs for it. */
export interface RemoteCaller {
  client: ApiClient;
  account: SenderAccount;
  /** The `Authorization` header carried a ticketpay API token (never forwarded to the webhook). */
  tokenUsed: boolean;
}

/**
 * With API tokens configured every call needs `Authorization: Bearer <token>`, and the token
 * binds it to its accounts (a token's spend cap applies). Without tokens (webhook auth, or
 * loopback) the caller may use every account served here. The account is the only one the caller
 * may use, or the one the `Ticketpay-Sender` header names.
 */
@Injectable()
export class RemoteCallers {
  constructor(
    private readonly clients: ApiClients,
    private readonly accounts: SenderAccounts,
    private readonly sender: SenderService,
  ) {}

  resolve(headers: Readonly<Record<string, string | string[] | undefined>>): RemoteCaller {
    const tokenUsed = this.clients.size > 0;
    const client: ApiClient = tokenUsed
      ? this.clients.authenticateBearer(single(headers.authorization), 'header')
      : {
          name: '',
          tokenHash: Buffer.alloc(0),
          senders: new Set(this.accounts.list().map((a) => a.addressHex)),
        };
    const named = single(headers[SENDER_HEADER]);
    let sender: Uint8Array = new Uint8Array(0);
    if (named !== undefined) {
      const parsed = parseAddressHex(named);
      if (parsed === undefined) {
        throw new SenderError(
          SenderErrorCode.INVALID_REQUEST,
          'the Ticketpay-Sender header must be an address',
        );
      }
      sender = hexToBytes(parsed, 'Ticketpay-Sender', 20);
    }
    const account = this.sender.accountFor(client, sender);
    return { client, account, tokenUsed };
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
