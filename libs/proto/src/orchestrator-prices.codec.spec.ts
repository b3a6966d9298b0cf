import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { capabilityModelsCodec, orchestratorCapabilityPricesCodec, orchestratorInfoCodec } from '#app/proto';

describe('OrchestratorInfo.capabilities_prices (field 33)', () => {
  it('reads the entries a go-livepeer orchestrator appends, beside the fields orchestratorInfoCodec reads', () => {
    const base = orchestratorInfoCodec.encode({
      transcoder: 'https://o.example:8935',
      address: new Uint8Array(20).fill(1),
      capabilities: new Uint8Array(0),
    });
    // Written by hand with go-livepeer's field numbers: OrchestratorInfo.capabilities_prices = 33,
    // PriceInfo {pricePerUnit = 1, pixelsPerUnit = 2, capability = 3, constraint = 4}.
    const w = protobuf.Writer.create();
    w.uint32((33 << 3) | 2)
      .fork()
      .uint32(8)
      .int64(7)
      .uint32(16)
      .int64(1000)
      .uint32(24)
      .uint32(37);
    w.uint32(34).string('text-reversal').ldelim();
    w.uint32((33 << 3) | 2)
      .fork()
      .uint32(8)
      .int64(0)
      .uint32(24)
      .uint32(35)
      .ldelim();
    const extra = w.finish();
    const bytes = new Uint8Array(base.length + extra.length);
    bytes.set(base);
    bytes.set(extra, base.length);

    expect(orchestratorInfoCodec.decode(bytes).transcoder).toBe('https://o.example:8935');
    expect(orchestratorCapabilityPricesCodec.decode(bytes)).toEqual([
      { pricePerUnit: 7n, pixelsPerUnit: 1000n, capability: 37, constraint: 'text-reversal' },
      { pricePerUnit: 0n, pixelsPerUnit: 0n, capability: 35, constraint: '' },
    ]);
    expect(orchestratorCapabilityPricesCodec.decode(base)).toEqual([]);
    expect(
      orchestratorCapabilityPricesCodec.encode([
        { pricePerUnit: 7n, pixelsPerUnit: 1000n, capability: 37, constraint: 'text-reversal' },
      ])[0],
    ).toBe(0x8a); // tag (33 << 3) | 2 as a varint: 0x8a 0x02
  });
});

describe('net.Capabilities read for the models it names per capability', () => {
  /** A ModelConstraint {warm = 1, capacity = 2}, as go-livepeer writes it. */
  const modelEntry = (w: protobuf.Writer, name: string) =>
    w
      .uint32(10)
      .fork()
      .uint32(10)
      .string(name)
      .uint32(18)
      .fork()
      .uint32(8)
      .bool(true)
      .uint32(16)
      .uint32(2)
      .ldelim()
      .ldelim();

  it("reads Constraints.PerCapability's models beside the fields it skips, as go-livepeer writes them", () => {
    // Capabilities {bitstring = 1 (packed), capacities = 3, version = 4, constraints = 5 {minVersion = 1,
    // PerCapability = 2 {key = 1, value = 2: CapabilityConstraints {models = 1}}}}.
    const w = protobuf.Writer.create();
    w.uint32(10).fork().uint64(0xffff).uint64(1).ldelim();
    w.uint32(26).fork().uint32(8).uint32(35).uint32(16).uint32(4).ldelim();
    w.uint32(34).string('0.9.0');
    w.uint32(42).fork();
    w.uint32(10).string('0.8.0');
    w.uint32(18).fork().uint32(8).uint32(35).uint32(18).fork();
    modelEntry(w, 'streamdiffusion');
    modelEntry(w, 'comfyui');
    w.ldelim().ldelim();
    w.uint32(18).fork().uint32(8).uint32(27).uint32(18).fork();
    modelEntry(w, 'stabilityai/sd-turbo');
    w.ldelim().ldelim();
    w.ldelim();
    expect(capabilityModelsCodec.decode(w.finish())).toEqual([
      { capability: 27, models: ['stabilityai/sd-turbo'] },
      { capability: 35, models: ['comfyui', 'streamdiffusion'] },
    ]);
    expect(capabilityModelsCodec.decode(new Uint8Array(0))).toEqual([]);
    const named = [{ capability: 35, models: ['a', 'b'] }];
    expect(capabilityModelsCodec.decode(capabilityModelsCodec.encode(named))).toEqual(named);
  });
});
