import { describe, expect, it } from 'vitest';
import type { DemoFiles } from './demo-setup.js';
import { choosePorts, serviceEnv, serviceSpecs } from './services.js';

const demo = {
  senderAddress: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  recipientAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  recipientKey: '0xkey',
  keystoreDir: '/state/demo/keystores',
  passwordFile: '/state/demo/keystore-password',
  tokensFile: '/state/demo/api-tokens.yaml',
  apiToken: 'token',
  apiTokenFile: '/state/demo/api-token',
  recipientSecretKey: 'secret-key',
  countersFile: '/state/demo/counters.json',
  opsApiToken: 'ops',
  opsApiTokenFile: '/state/demo/ops-api-token',
  redeemerOpsToken: 'redeemer-ops',
} satisfies DemoFiles;

describe("the local stack's service settings", () => {
  it("let the user's environment override the demo's tuning, not its wiring", async () => {
    const specs = serviceSpecs('/repo', await choosePorts(false), demo);
    const recipient = specs.find((s) => s.name === 'recipient')!;
    expect(serviceEnv(recipient, {}).RECIPIENT_PARAMS_EXPIRY_BLOCKS).toBe('5');
    const env = serviceEnv(recipient, {
      RECIPIENT_PARAMS_EXPIRY_BLOCKS: '12',
      RECIPIENT_GRPC_URL: '127.0.0.1:1',
      RECIPIENT_ADDRESS: '0x0000000000000000000000000000000000000001',
    });
    expect(env.RECIPIENT_PARAMS_EXPIRY_BLOCKS).toBe('12');
    expect(env.RECIPIENT_GRPC_URL).toBe('127.0.0.1:8931');
    expect(env.RECIPIENT_ADDRESS).toBe(demo.recipientAddress);
  });
});
