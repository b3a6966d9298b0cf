import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from './cli.js';

/** Runs the CLI in-process with captured output; nothing here reaches a chain or a store. */
async function invoke(argv: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(argv, env, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out, stderr: err };
}

describe('ticketpay command line', () => {
  it('prints the command list; exit 2 without a command, 0 with --help', async () => {
    const bare = await invoke([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/sender fund-deposit/);
    expect(bare.stdout).toMatch(/tickets redeem/);
    expect((await invoke(['--help'])).code).toBe(0);
    expect((await invoke(['sender'])).code).toBe(2);
    const group = await invoke(['sender', '--help']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/cancel-unlock/);
  });

  it('shows every option of a command in its help', async () => {
    const help = await invoke(['sender', 'fund-reserve', '-h']);
    expect(help.code).toBe(0);
    for (const flag of ['--keystore', '--password-file', '--private-key-env', '--confirmations', '--json']) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('refuses bad invocations with exit 2 before touching anything', async () => {
    const cases: [string[], RegExp][] = [
      [['nope'], /unknown command "nope"/],
      [['tickets', 'burn'], /unknown command "tickets burn"/],
      [['sender', 'unlock', '--what'], /Unknown option '--what'/],
      [['sender', 'fund-deposit', '--confirmations'], /argument missing|needs a value/i],
      [['sender', 'fund-deposit', '2.5'], /did you mean 2\.5eth/],
      [['sender', 'fund-deposit', '0eth', '--private-key-env', 'K'], /greater than zero/],
      [['conformance'], /missing argument/],
      [['chain', 'deploy', '--round-length', 'ten'], /--round-length must be a whole number/],
      [['chain', 'deploy', '--recipient', '0x90F79bf6EB2c4F870365E785982E1f101E93b906'], /checksum/],
      [['recipient', 'info', '0x90f79bf6eb2c4f870365e785982e1f101e93b906'], /Controller address is needed/],
      [['tickets', 'redeem', '0x12'], /ticket hash/],
      [['keystore', 'import'], /needs --private-key-env/],
      [
        [
          'chain',
          'info',
          '--controller',
          '0x5FbDB2315678afecb367f032d93F642f64180aa3',
          '--rpc-url',
          'localhost:8545',
        ],
        /--rpc-url must be an http\(s\) URL/,
      ],
      [
        ['tickets', 'redeem', `0x${'ab'.repeat(32)}`, '--ignore-gas-limits'],
        /needs the Redeemer's ops endpoint/,
      ],
      [['recipient', 'withdraw-fees', '--via-redeemer'], /--via-redeemer needs --redeemer-url/],
      [['recipient', 'withdraw-fees', '--amount', '0'], /greater than zero/],
    ];
    for (const [argv, message] of cases) {
      const r = await invoke(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('asks for the ops token when the Redeemer URL is set', async () => {
    const r = await invoke(['tickets', 'redeem', `0x${'ab'.repeat(32)}`], {
      REDEEMER_URL: 'http://127.0.0.1:8933',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/set REDEEMER_OPS_TOKEN/);
  });

  it('refuses an ops token the Redeemer would refuse, without echoing it', async () => {
    for (const token of ['short-secret', 'has a space in the secret']) {
      const r = await invoke(['tickets', 'redeem', `0x${'ab'.repeat(32)}`], {
        REDEEMER_URL: 'http://127.0.0.1:8933',
        REDEEMER_OPS_TOKEN: token,
      });
      expect(r.code, token).toBe(2);
      expect(r.stderr).toMatch(/REDEEMER_OPS_TOKEN is invalid/);
      expect(r.stderr).not.toContain('secret');
    }
  });

  it('reports configuration errors with exit 2 and never echoes a secret', async () => {
    const r = await invoke(['chain', 'info'], { ETH_RPC_URL: 'ftp://user:hunter2@example' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ETH_RPC_URL is invalid/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('refuses a Redeemer URL with user:password@ (its token is REDEEMER_OPS_TOKEN), echoing neither', async () => {
    const hash = `0x${'ab'.repeat(32)}`;
    const token = { REDEEMER_OPS_TOKEN: 'a-long-enough-ops-token-0123456789' };
    const env = await invoke(['tickets', 'redeem', hash], {
      ...token,
      REDEEMER_URL: 'http://ops:hunter2@127.0.0.1:8933',
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/REDEEMER_URL is invalid/);
    const flag = await invoke(
      ['tickets', 'redeem', hash, '--redeemer-url', 'http://ops:hunter2@127.0.0.1:8933'],
      token,
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--redeemer-url: expected a URL without user:password@/);
    for (const r of [env, flag]) expect(r.stderr + r.stdout).not.toContain('hunter2');
  });

  it('puts errors on stdout as JSON too with --json', async () => {
    const r = await invoke(['sender', 'fund-deposit', '1.5', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'INVALID_AMOUNT', message: expect.stringMatching(/did you mean/) as unknown },
    });
  });

  it('refuses a private key variable that is not a key, without echoing it', async () => {
    const r = await invoke(['sender', 'info', '--private-key-env', 'K'], {
      K: 'not-a-key-but-maybe-a-secret',
      CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/K does not hold a 32-byte hex private key/);
    expect(r.stderr).not.toContain('not-a-key');
  });
});
