import { join } from 'node:path';
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { bytesToHex, type SignedTicket } from '#app/ticket';
import {
  LP_RPC_PROTO,
  PROTO_DIR,
  ProtoErrorCode,
  REDEEMER_PROTO,
  TICKET_REDEEMER_SERVICE,
  maxFloatReqCodec,
  maxFloatUpdateCodec,
  queueTicketResCodec,
  redeemerTicketCodec,
  type TicketMessage,
} from '#app/proto';
import { arbitrarySignedTicket } from '../test/arbitraries.js';

const ticket: SignedTicket = {
  recipient: new Uint8Array(20).fill(1),
  sender: new Uint8Array(20).fill(2),
  faceValue: 1000n,
  winProb: 5n,
  senderNonce: 3,
  recipientRandHash: new Uint8Array(32).fill(4),
  creationRound: 7n,
  creationRoundBlockHash: new Uint8Array(32).fill(8),
  paramsExpirationBlock: 140n,
  sig: new Uint8Array(65).fill(9),
  recipientRand: 0x1234n,
};

describe('Redeemer codecs', () => {
  it('round-trips winning tickets, filling only the ticket_params fields go-livepeer fills', () => {
    const bytes = redeemerTicketCodec.encode(ticket);
    expect(redeemerTicketCodec.decode(bytes)).toEqual(ticket);
    const message = redeemerTicketCodec.toMessage(ticket);
    expect(
      Object.entries(message.ticketParams ?? {})
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k),
    ).toEqual(['recipient', 'faceValue', 'winProb', 'recipientRandHash', 'expirationBlock']);
    fc.assert(
      fc.property(arbitrarySignedTicket, (t) => {
        expect(redeemerTicketCodec.decode(redeemerTicketCodec.encode(t))).toEqual(t);
      }),
    );
  });

  it.each(['ticketParams', 'expirationParams', 'senderParams'] as const)(
    'refuses a ticket without %s',
    (field) => {
      const message: TicketMessage = { ...redeemerTicketCodec.toMessage(ticket), [field]: null };
      expect(() => redeemerTicketCodec.fromMessage(message)).toThrow(
        expect.objectContaining({ code: ProtoErrorCode.INVALID_FIELD }),
      );
    },
  );

  it('encodes max float requests and updates, zero as an empty message', () => {
    expect(maxFloatReqCodec.decode(maxFloatReqCodec.encode({ sender: ticket.sender }))).toEqual({
      sender: ticket.sender,
    });
    expect(maxFloatUpdateCodec.encode({ maxFloat: 0n })).toHaveLength(0);
    expect(bytesToHex(maxFloatUpdateCodec.encode({ maxFloat: 256n }))).toBe('0x0a020100');
    expect(maxFloatUpdateCodec.decode(Uint8Array.of(0x0a, 0x02, 0x01, 0x00))).toEqual({ maxFloat: 256n });
    expect(() => maxFloatUpdateCodec.encode({ maxFloat: -1n })).toThrow('max_float must be a uint256');
    expect(queueTicketResCodec.encode({})).toHaveLength(0);
    expect(queueTicketResCodec.decode(new Uint8Array(0))).toEqual({});
  });
});

describe('the .proto files with @grpc/proto-loader', () => {
  const definition = protoLoader.loadSync([LP_RPC_PROTO, REDEEMER_PROTO], {
    includeDirs: [PROTO_DIR],
    longs: String,
    defaults: false,
  });

  it('define the TicketRedeemer service with go-livepeer method paths', () => {
    const service = definition[TICKET_REDEEMER_SERVICE] as Record<
      string,
      { path: string; responseStream: boolean }
    >;
    expect(service.QueueTicket.path).toBe('/net.TicketRedeemer/QueueTicket');
    expect(service.MaxFloat.path).toBe('/net.TicketRedeemer/MaxFloat');
    expect(service.MonitorMaxFloat.path).toBe('/net.TicketRedeemer/MonitorMaxFloat');
    expect(service.MonitorMaxFloat.responseStream).toBe(true);
    expect(PROTO_DIR).toBe(join(import.meta.dirname, '..', 'proto'));
  });

  it('serialise and parse the same bytes as the codecs, through toMessage/fromMessage', () => {
    const queueTicket = (
      definition[TICKET_REDEEMER_SERVICE] as Record<string, protoLoader.MethodDefinition<object, object>>
    ).QueueTicket;
    fc.assert(
      fc.property(arbitrarySignedTicket, (t) => {
        const bytes = queueTicket.requestSerialize(redeemerTicketCodec.toMessage(t));
        expect(bytesToHex(bytes)).toBe(bytesToHex(redeemerTicketCodec.encode(t)));
        expect(
          redeemerTicketCodec.fromMessage(queueTicket.requestDeserialize(bytes) as TicketMessage),
        ).toEqual(t);
      }),
      { numRuns: 50 },
    );
  });
});
