import { Injectable } from '@nestjs/common';
import type { SenderAccount } from './keystore-loader.js';

/** The accounts this node signs for, loaded once at boot (see SenderBoot). */
@Injectable()
export class SenderAccounts {
  private readonly byAddress = new Map<string, SenderAccount>();

  load(accounts: readonly SenderAccount[]): void {
    this.byAddress.clear();
    for (const account of accounts) this.byAddress.set(account.addressHex, account);
  }

  /** The account with this lowercase 0x-hex address, if this node serves it. */
  get(addressHex: string): SenderAccount | undefined {
    return this.byAddress.get(addressHex);
  }

  has(addressHex: string): boolean {
    return this.byAddress.has(addressHex);
  }

  list(): SenderAccount[] {
    return [...this.byAddress.values()];
  }
}
