import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, repoRoot } from '#app/common';
import { freePort, startSourceService, waitForGrpcServing } from '#app/testing';
import {
  KEYSTORE_PASSWORD,
  SenderClient,
  bootError,
  bootSender,
  failure,
  senderEnv,
  startSenderChain,
  testRedis,
  writeSenderFiles,
  type Env,
  type SenderChain,
  type SenderFiles,
} from './sender-fixture.js';

const WRONG_PASSWORD = 'not-the-password-9f3c';

/** Runs the Sender's real main (from source) and collects its exit code and output. */
function runSenderMain(env: Env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=ticketpay-source',
        '--import',
        '@swc-node/register/esm-register',
        join('apps', 'sender', 'src', 'main.ts'),
      ],
      { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Sender boot', () => {
  let chain: SenderChain;
  let files: SenderFiles;
  let env: Env;

  beforeAll(async () => {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    env = senderEnv(chain, files, testRedis('sender-boot'));
  });
  afterAll(async () => {
    await chain?.stop();
    files?.cleanup();
  });

  it('a keystore with a wrong password stops the process with a clear message (exit 78)', async () => {
    const wrong = join(files.dir, 'wrong-password');
    writeFileSync(wrong, WRONG_PASSWORD);
    const { code, output } = await runSenderMain({
      ...env,
      SENDER_GRPC_URL: '127.0.0.1:0',
      SENDER_HTTP_PORT: '0',
      SENDER_KEYSTORE_PASSWORD_FILE: wrong,
    });
    expect(code).toBe(78);
    expect(output).toContain('invalid configuration');
    expect(output).toContain(
      `keystore ${join(files.keystoreDir, 'funded.json')}: wrong password, cannot decrypt it`,
    );
    expect(output).not.toContain(WRONG_PASSWORD);
    expect(output).not.toContain(KEYSTORE_PASSWORD);
  });

  it('lists every boot problem at once, without secrets', async () => {
    const tokens = join(files.dir, 'bad-tokens.yaml');
    writeFileSync(
      tokens,
      'clients:\n  - name: a\n    token: "short"\n    senders: ["0x0000000000000000000000000000000000000001"]\n',
    );
    const err = await bootError({
      ...env,
      SENDER_KEYSTORE_PASSWORD_FILE: '',
      SENDER_KEYSTORE_PASSWORD: WRONG_PASSWORD,
      SENDER_API_TOKENS_FILE: tokens,
      SENDER_CONTACTS_FILE: '',
      SENDER_ALLOWLIST: 'on',
      SENDER_NONCE_REFRESH_AT: '700',
    });
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/SENDER_NONCE_REFRESH_AT \(700\) must not exceed SENDER_NONCE_CAP \(600\)/);
    expect(problems).toMatch(/funded\.json: wrong password/);
    expect(problems).toMatch(/unfunded\.json: wrong password/);
    expect(problems).toMatch(/clients\[0\] \(a\): "token" must be at least 16 characters/);
    expect(problems).toMatch(/SENDER_ALLOWLIST is on but SENDER_CONTACTS_FILE is not set/);
    expect(problems).not.toContain(WRONG_PASSWORD);
    expect(problems).not.toContain('short');
  });

  it('refuses a token bound to an account no keystore holds', async () => {
    const tokens = join(files.dir, 'stranger-tokens.yaml');
    const stranger = '0x00000000000000000000000000000000000000aa';
    writeFileSync(
      tokens,
      `clients:\n  - name: a\n    token: "a-long-enough-token-123"\n    senders: ["${stranger}"]\n`,
    );
    await expect(bootSender({ ...env, SENDER_API_TOKENS_FILE: tokens })).rejects.toThrow(
      new RegExp(`client "a" names sender ${stranger}, which no keystore or Web3Signer account holds`),
    );
  });

  it('boots with no accounts, tokens or contacts configured, and then refuses every call', async () => {
    const bare = await bootSender({
      REDIS_URL: env.REDIS_URL,
      REDIS_PREFIX: env.REDIS_PREFIX,
      ETH_RPC_URL: env.ETH_RPC_URL,
      CONTROLLER_ADDRESS: env.CONTROLLER_ADDRESS,
    });
    try {
      expect((await fetch(`${bare.httpUrl}/health`)).status).toBe(200);
      await expect(bare.client.call('Senders', {})).rejects.toMatchObject({ code: 16 });
    } finally {
      await bare.close();
    }
  });

  it('refuses a gRPC request above SENDER_GRPC_MAX_REQUEST_BYTES before reading it (the real main)', async () => {
    const grpcUrl = `127.0.0.1:${await freePort()}`;
    const svc = startSourceService('sender', {
      ...env,
      SENDER_GRPC_URL: grpcUrl,
      SENDER_HTTP_PORT: '0',
      SENDER_GRPC_MAX_REQUEST_BYTES: '1024',
    });
    const client = new SenderClient(grpcUrl);
    try {
      await waitForGrpcServing(grpcUrl, svc);
      const big = await failure(client.call('StartSession', { sender: Buffer.alloc(2_048, 1) }));
      expect(big).toMatchObject({ status: status.RESOURCE_EXHAUSTED, code: 'MESSAGE_TOO_LARGE' });
      // Under the limit the request is read, and refused for what it says (not UNAUTHENTICATED:
      // gRPC serves only once the API tokens are loaded).
      const small = await failure(client.call('StartSession', { sender: Buffer.alloc(512, 1) }));
      expect(small).toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_REQUEST' });
    } finally {
      client.close();
      await svc.stop();
    }
  });

  it('refuses gRPC requests above 64 KiB by default', async () => {
    const sender = await bootSender(env);
    try {
      const big = await failure(sender.client.call('StartSession', { sender: Buffer.alloc(65 * 1024, 1) }));
      expect(big.status).toBe(status.RESOURCE_EXHAUSTED);
      const small = await failure(sender.client.call('StartSession', { sender: Buffer.alloc(60 * 1024, 1) }));
      expect(small).toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_REQUEST' });
    } finally {
      await sender.close();
    }
  });

  describe('remote signer auth (fail closed, go-livepeer #3959)', () => {
    const open = () => {
      const e: Env = { ...env, SENDER_REMOTE_SIGNER: 'true', HTTP_HOST: '0.0.0.0' };
      delete e.SENDER_API_TOKENS_FILE;
      return e;
    };

    it('stops the process on a non-loopback HTTP_HOST without API tokens or webhook (exit 78)', async () => {
      const { code, output } = await runSenderMain({
        ...open(),
        SENDER_GRPC_URL: '127.0.0.1:0',
        SENDER_HTTP_PORT: '0',
      });
      expect(code).toBe(78);
      expect(output).toContain('invalid configuration');
      expect(output).toContain('HTTP_HOST 0.0.0.0 is not a loopback address and no auth is configured');
      expect(output).toContain('SENDER_REMOTE_SIGNER_ALLOW_NO_AUTH=true');
    });

    it('boots there with a webhook, with API tokens, or with the explicit override', async () => {
      const extras: Env[] = [
        { SENDER_REMOTE_SIGNER_WEBHOOK_URL: 'http://127.0.0.1:9/authorize' },
        { SENDER_API_TOKENS_FILE: files.tokensFile },
        { SENDER_REMOTE_SIGNER_ALLOW_NO_AUTH: 'true' },
      ];
      for (const extra of extras) {
        const sender = await bootSender({ ...open(), ...extra });
        await sender.close();
      }
    });

    it('boots on loopback without auth, as go-livepeer does (with a warning)', async () => {
      const sender = await bootSender({ ...open(), HTTP_HOST: '127.0.0.1' });
      try {
        const res = await fetch(`${sender.httpUrl}/sign-orchestrator-info`, { method: 'POST' });
        // Two accounts and no token to choose: the caller must name one.
        expect(res.status).toBe(400);
      } finally {
        await sender.close();
      }
    });
  });
});
