import { readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PROTO_DIR } from './proto-paths.js';

// ticketpay's own .proto files (ticketpay.*), loaded as protoc would with -I PROTO_DIR.
const ticketpayProtos = readdirSync(join(PROTO_DIR, 'ticketpay'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.proto'))
  .map((f) => join('ticketpay', f));

function load(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
  root.loadSync(ticketpayProtos);
  root.resolveAll();
  return root;
}

/** Every message type under `ns`, nested ones included, by fully qualified name. */
function messages(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((n) => [
    ...(n instanceof protobuf.Type ? [n] : []),
    ...(n instanceof protobuf.Namespace || n instanceof protobuf.Type ? messages(n) : []),
  ]);
}

function ticketpayServices(ns: protobuf.NamespaceBase): protobuf.Service[] {
  return ns.nestedArray.flatMap((n) =>
    n instanceof protobuf.Service
      ? n.fullName.startsWith('.ticketpay.')
        ? [n]
        : []
      : n instanceof protobuf.Namespace
        ? ticketpayServices(n)
        : [],
  );
}

describe("ticketpay's own protos", () => {
  const root = load();
  const own = messages(root).filter((t) => t.fullName.startsWith('.ticketpay.'));

  // A method's request and response messages belong to its service (EVRequest of the Sender and
  // of the Recipient differ); every other message is a shared data type, declared in one place.
  const rpcMessages = new Set(
    ticketpayServices(root).flatMap((s) =>
      s.methodsArray.flatMap((m) => [m.resolvedRequestType?.fullName, m.resolvedResponseType?.fullName]),
    ),
  );

  it('declare each data message once: no two packages repeat the same name', () => {
    const byName = new Map<string, string[]>();
    for (const t of own.filter((t) => !rpcMessages.has(t.fullName))) {
      byName.set(t.name, [...(byName.get(t.name) ?? []), t.fullName]);
    }
    const repeated = [...byName.values()].filter((names) => names.length > 1);
    expect(repeated).toEqual([]);
  });

  it('carry every exact amount of the Sender and the Recipient in one Rational', () => {
    const fieldType = (type: string, field: string) =>
      root.lookupType(type).fields[field].resolvedType?.fullName;
    const amounts = [
      fieldType('ticketpay.sender.v1.StartSessionResponse', 'ev'),
      fieldType('ticketpay.sender.v1.EVResponse', 'ev'),
      fieldType('ticketpay.recipient.v1.ProcessPaymentResponse', 'credited'),
      fieldType('ticketpay.recipient.v1.BalanceResponse', 'balance'),
      fieldType('ticketpay.recipient.v1.TxCostMultiplierResponse', 'multiplier'),
    ];
    expect(new Set(amounts)).toEqual(new Set(['.ticketpay.type.v1.Rational']));
  });

  it('keep the Rational bytes of the two messages it replaced (num = 1, den = 2, strings)', () => {
    const rational = root.lookupType('ticketpay.type.v1.Rational');
    const bytes = rational.encode({ num: '-3', den: '2' }).finish();
    expect(Buffer.from(bytes).toString('hex')).toBe('0a022d33120132');
    expect(rational.toObject(rational.decode(bytes))).toEqual({ num: '-3', den: '2' });
  });
});
