import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Each infrastructure client has one owning library (STYLE.md "Layout"), so upgrading or swapping
 * it, or changing how it is used (error classification, retries, key prefixes), touches one folder:
 * - ethers: libs/chain (bindings, providers, tx manager, ChainError classification);
 * - typeorm, @nestjs/typeorm: libs/database (entities, repositories, read models);
 * - bullmq, @nestjs/bullmq: libs/queue (the redemption job lifecycle);
 * - ioredis: connections are opened only by libs/common (RedisModule, createRedisConnection) and
 *   libs/queue (BullMQ's). Apps keep their own Redis data (nonces, balances, sessions, rate
 *   windows, written with Lua scripts), so they program against the `Redis` type: type-only
 *   imports are allowed for it.
 * Type-only imports of ethers and typeorm are allowed too: they are the libraries' API types
 * (a TransactionReceipt, a DataSource handle) and bring no code in.
 */
const OWNED_IMPORTS = [
  { name: 'ethers', owner: 'libs/chain', allowTypeImports: true },
  { name: 'typeorm', owner: 'libs/database', allowTypeImports: true },
  { name: '@nestjs/typeorm', owner: 'libs/database' },
  { name: 'bullmq', owner: 'libs/queue' },
  { name: '@nestjs/bullmq', owner: 'libs/queue' },
  { name: 'ioredis', owner: 'libs/common', allowTypeImports: true },
  { name: 'ioredis', owner: 'libs/queue', allowTypeImports: true },
];

/** The no-restricted-imports rule for code under `owner` (every package it does not own). */
function ownedImportsRule(owner) {
  const owned = new Set(OWNED_IMPORTS.filter((o) => o.owner === owner).map((o) => o.name));
  const paths = [];
  for (const o of OWNED_IMPORTS) {
    if (owned.has(o.name) || paths.some((p) => p.name === o.name)) continue;
    const owners = OWNED_IMPORTS.filter((x) => x.name === o.name).map((x) => x.owner);
    paths.push({
      name: o.name,
      allowTypeImports: o.allowTypeImports ?? false,
      message: `${o.name} belongs to ${owners.join(' and ')}: use that library's API (eslint.config.js).`,
    });
  }
  return ['error', { paths }];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'contracts/artifacts/', '.ticketpay/', 'coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through the app config class (STYLE.md §4).',
        },
      ],
    },
  },
  { files: ['**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ownedImportsRule(null) } },
  ...['libs/chain', 'libs/database', 'libs/queue', 'libs/common'].map((owner) => ({
    files: [`${owner}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ownedImportsRule(owner) },
  })),
  {
    // Tests, benchmarks, dev scripts and the dev/test library set up real chains, databases and
    // queues directly (deploying contracts, seeding rows, flushing Redis): that is their job.
    files: ['**/*.spec.ts', 'test/**', 'bench/**', 'scripts/**', 'libs/testing/**'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  {
    // Not moved yet (each file named, to shrink this list, not grow it): the CLI's wallet, keystore
    // and provider handling and the ops API's request-signature check use ethers directly; the
    // Sender's keystore loader is being reworked on the signer branches.
    files: [
      'apps/cli/src/chain-connection.ts',
      'apps/cli/src/chain-errors.ts',
      'apps/cli/src/context.ts',
      'apps/cli/src/keystore-files.ts',
      'apps/cli/src/signer.ts',
      'apps/cli/src/commands/dev.command.ts',
      'apps/cli/src/commands/keystore.command.ts',
      'apps/cli/src/commands/recipient.command.ts',
      'apps/ops/src/auth/request-signature.ts',
      'apps/sender/src/accounts/keystore-loader.ts',
    ],
    rules: { '@typescript-eslint/no-restricted-imports': ownedImportsRule('libs/chain') },
  },
  {
    // The config loader, entry scripts and the test harness are where the environment is read.
    files: ['libs/common/src/config/**', 'scripts/**', 'test/support/**', 'bench/**', 'libs/testing/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
);
