import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '#app/ticket';
import { orchestratorInfoCodec, ProtoErrorCode, segDataCodec, type OrchestratorInfo } from '#app/proto';

const info: OrchestratorInfo = {
  transcoder: 'https://orch.example:8935',
  ticketParams: {
    recipient: hexToBytes('0x' + '11'.repeat(20), 'r', 20),
    faceValue: 10n ** 15n,
    winProb: 12345n,
    recipientRandHash: hexToBytes('0x' + '22'.repeat(32), 'h', 32),
    seed: 99n,
    expirationBlock: 1000n,
    expirationParams: {
      creationRound: 7n,
      creationRoundBlockHash: hexToBytes('0x' + '33'.repeat(32), 'b', 32),
    },
  },
  priceInfo: { pricePerUnit: 150n, pixelsPerUnit: 175n, capability: 0, constraint: '' },
  address: hexToBytes('0x' + '11'.repeat(20), 'a', 20),
  capabilities: new Uint8Array([0x1a, 0x04, 0x08, 0x23, 0x10, 0x01]), // capacities {35: 1}
  authToken: { token: new Uint8Array([1, 2, 3]), sessionId: 'sess', expiration: 1_800_000_000n },
};

describe('net.OrchestratorInfo / net.SegData codecs', () => {
  it('round-trips the fields a remote signer reads, keeping capabilities byte for byte', () => {
    const decoded = orchestratorInfoCodec.decode(orchestratorInfoCodec.encode(info));
    expect(decoded).toEqual(info);
  });

  it("skips go-livepeer's fields it does not read (hardware = 7, storage = 32, capabilities_prices = 33)", () => {
    const w = protobuf.Writer.create();
    w.uint32((7 << 3) | 2).bytes(new Uint8Array([0x0a, 0x01, 0x41]));
    w.uint32((32 << 3) | 2).bytes(new Uint8Array([0x08, 0x01]));
    w.uint32((33 << 3) | 2).bytes(new Uint8Array([0x08, 0x05, 0x10, 0x01]));
    const extra = w.finish();
    const base = orchestratorInfoCodec.encode(info);
    const bytes = new Uint8Array(base.length + extra.length);
    bytes.set(base);
    bytes.set(extra, base.length);
    expect(orchestratorInfoCodec.decode(bytes)).toEqual(info);
  });

  it('refuses garbage with MALFORMED_MESSAGE', () => {
    expect(() => orchestratorInfoCodec.decode(new TextEncoder().encode('not-proto'))).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.MALFORMED_MESSAGE }),
    );
  });

  it('writes segment credentials with go-livepeer field numbers', () => {
    const seg = {
      manifestId: new TextEncoder().encode('m'),
      seq: 0n,
      hash: new Uint8Array(32).fill(5),
      sig: new Uint8Array(65).fill(7),
      capabilities: new Uint8Array(0),
      authToken: info.authToken,
    };
    const bytes = segDataCodec.encode(seg);
    expect(bytes[0]).toBe((1 << 3) | 2); // manifestId = 1
    expect(segDataCodec.decode(bytes)).toEqual(seg);
    const r = protobuf.Reader.create(bytes);
    const tags: number[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      tags.push(tag >>> 3);
      r.skipType(tag & 7);
    }
    expect(tags).toEqual([1, 3, 5, 8]); // seq 0 and empty capabilities are omitted, as in Go
  });
});
