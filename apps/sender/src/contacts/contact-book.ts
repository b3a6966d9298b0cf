import { Injectable } from '@nestjs/common';
import type { Contact } from './contacts.js';

/** The known recipients, loaded once at boot, and whether only they may be paid. */
@Injectable()
export class ContactBook {
  private readonly byAddress = new Map<string, Contact>();
  private allowlistOn = false;

  load(contacts: readonly Contact[], allowlist: boolean): void {
    this.byAddress.clear();
    for (const contact of contacts) this.byAddress.set(contact.addressHex, contact);
    this.allowlistOn = allowlist;
  }

  /** When on, params from recipients that are not contacts are refused. */
  get allowlist(): boolean {
    return this.allowlistOn;
  }

  get size(): number {
    return this.byAddress.size;
  }

  find(addressHex: string): Contact | undefined {
    return this.byAddress.get(addressHex);
  }
}
