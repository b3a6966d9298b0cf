import type { Rational, TicketParams } from '#app/ticket';
import type { Contact } from '../contacts/contacts.js';
import { SenderError, SenderErrorCode } from '../sender.error.js';

export interface SessionPolicyInput {
  params: TicketParams;
  /** Lowercase 0x-hex of params.recipient. */
  recipientHex: string;
  pricePerPixel: Rational;
  /** The recipient's entry in the contacts, if any. */
  contact: Contact | undefined;
  allowlist: boolean;
}

/** With the allowlist on, only the contacts' recipients may be paid. */
export function recipientAllowed(allowlist: boolean, contact: Contact | undefined): boolean {
  return !allowlist || contact !== undefined;
}

/**
 * This node's own rules for accepting params, checked before the protocol's (validateTicketParams):
 * only contacts may be paid when the allowlist is on, tickets must be able to win (winProb > 0:
 * zero-winProb tickets carry no value, so there is nothing to sign), and the price may not
 * exceed the contact's maximum. Pure; throws a SenderError.
 */
export function checkSessionPolicy(input: SessionPolicyInput): void {
  const { contact } = input;
  if (!recipientAllowed(input.allowlist, contact)) {
    throw new SenderError(
      SenderErrorCode.RECIPIENT_NOT_ALLOWED,
      `recipient ${input.recipientHex} is not in the contacts and the allowlist is on`,
    );
  }
  if (input.params.winProb === 0n) {
    throw new SenderError(SenderErrorCode.WIN_PROB_ZERO, 'ticket winProb is 0: such tickets never win');
  }
  if (contact?.maxPricePerPixel && input.pricePerPixel.cmp(contact.maxPricePerPixel) > 0) {
    throw new SenderError(
      SenderErrorCode.PRICE_TOO_HIGH,
      `price per pixel ${input.pricePerPixel.toString()} of ${contact.alias} > max ${contact.maxPricePerPixel.toString()}`,
    );
  }
}
