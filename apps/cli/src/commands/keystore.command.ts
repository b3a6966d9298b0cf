import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { hexlify, randomBytes, Wallet } from 'ethers';
import { SIGNER_OPTIONS, type Args, type OptionSpecs } from '../args.js';
import { usageError } from '../cli.error.js';
import type { CommandGroup, CommandResult } from '../command.js';
import type { CommandContext } from '../context.js';
import { assertNoKeystoreFor, listKeystores, writeKeystore } from '../keystore-files.js';
import { fieldLines, tableLines } from '../output.js';

const DIR_OPTION = {
  dir: {
    type: 'string',
    value: '<dir>',
    description: 'keystore folder (default: KEYSTORE_DIR, else ~/.ticketpay/keystore)',
  },
} as const satisfies OptionSpecs;

function keystoreDir(ctx: CommandContext, args: Args): string {
  return resolve(args.string('dir') ?? ctx.env.KEYSTORE_DIR ?? join(homedir(), '.ticketpay', 'keystore'));
}

async function store(ctx: CommandContext, args: Args, wallet: Wallet): Promise<CommandResult> {
  const dir = keystoreDir(ctx, args);
  await assertNoKeystoreFor(dir, wallet.address); // before asking for a password
  const password = await ctx.newKeystorePassword();
  ctx.progress.status('encrypting (scrypt)…');
  const entry = await writeKeystore(dir, wallet, password);
  ctx.progress.end();
  return {
    data: entry,
    human: fieldLines([
      ['address', entry.address],
      ['keystore', entry.file],
    ]),
  };
}

export const keystoreCommands: CommandGroup = {
  name: 'keystore',
  summary: 'create, import and list encrypted V3 keystores',
  commands: [
    {
      name: 'new',
      summary: 'create a new account in an encrypted keystore',
      details: ['The password comes from --password-file, KEYSTORE_PASSWORD or a prompt (asked twice).'],
      options: { ...DIR_OPTION, 'password-file': SIGNER_OPTIONS['password-file'] },
      positionals: { min: 0, max: 0 },
      run: (ctx, args) => store(ctx, args, new Wallet(hexlify(randomBytes(32)))),
    },
    {
      name: 'import',
      summary: 'encrypt an existing private key into a keystore',
      details: ['The key is read from an environment variable, never from the command line.'],
      options: {
        ...DIR_OPTION,
        'password-file': SIGNER_OPTIONS['password-file'],
        'private-key-env': {
          type: 'string',
          value: '<NAME>',
          description: 'environment variable holding the private key (required)',
        },
      },
      positionals: { min: 0, max: 0 },
      async run(ctx, args) {
        const name = args.string('private-key-env');
        if (name === undefined) throw usageError('keystore import needs --private-key-env <NAME>');
        const key = ctx.walletFromEnv(name);
        return store(ctx, args, new Wallet(key.privateKey));
      },
    },
    {
      name: 'list',
      summary: 'list the accounts of a keystore folder (nothing is decrypted)',
      options: { ...DIR_OPTION },
      positionals: { min: 0, max: 0 },
      async run(ctx, args) {
        const dir = keystoreDir(ctx, args);
        const entries = await listKeystores(dir);
        return {
          data: { dir, keystores: entries },
          human:
            entries.length === 0
              ? [`no keystores in ${dir}`]
              : tableLines(
                  ['ADDRESS', 'FILE'],
                  entries.map((e) => [e.address, e.file]),
                ),
        };
      },
    },
  ],
};
