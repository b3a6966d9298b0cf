import type { Rational } from '#app/ticket';

/**
 * ticketpay's `Rational` (ticketpay.type.v1, used by the Sender's and the Recipient's APIs): an
 * exact amount as base-10 `num` and `den` strings, as @grpc/proto-loader hands it over (either may
 * be absent or empty on a request). Exact, because EV and balances are big.Rat in go-livepeer and
 * a float would round them.
 */
export interface RationalMessage {
  num?: string;
  den?: string;
}

/** A Rational as the message: lowest terms (Rational keeps them), den positive, both in base 10. */
export function rationalMessage(value: Rational): Required<RationalMessage> {
  return { num: value.num.toString(), den: value.den.toString() };
}
