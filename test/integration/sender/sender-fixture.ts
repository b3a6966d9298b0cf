import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { encryptKeystoreJson, parseEther, Wallet } from 'ethers';
import { inject } from 'vitest';
import { roundsManagerAt, ticketBrokerAt } from '#app/chain';
import { bootstrapService } from '#app/common';
import { GRPC_LOADER_OPTIONS, priceInfoCodec, ticketParamsCodec } from '#app/proto';
import {
  bytesToBigInt,
  computeRecipientRand,
  hexToBytes,
  pricePerPixel,
  Rational,
  recipientRandHash,
  winProbForEV,
  type PriceInfo,
  type TicketExpirationParams,
  type TicketParams,
} from '#app/ticket';
import {
  ANVIL_PRIVATE_KEYS,
  freePort,
  startAnvil,
  type AnvilInstance,
  deployProtocol,
  type DeployedProtocol,
} from '#app/testing';
import { SenderConfig } from '../../../apps/sender/src/sender.config.js';
import { SENDER_GRPC, SENDER_PROTO_PATH } from '../../../apps/sender/src/sender.grpc.js';
import { SenderModule } from '../../../apps/sender/src/sender.module.js';

// Anvil's public dev keys (ANVIL_PRIVATE_KEYS, "test … junk" mnemonic): test key material only.
export const FUNDED_SENDER_KEY = ANVIL_PRIVATE_KEYS[1];
/** Has ETH but nothing in the TicketBroker. */
export const UNFUNDED_SENDER_KEY = ANVIL_PRIVATE_KEYS[2];
export const RECIPIENT_KEY = ANVIL_PRIVATE_KEYS[9];

export const KEYSTORE_PASSWORD = 'correct horse battery staple';
export const GATEWAY_TOKEN = 'gateway-token-0123456789abcdef';
export const OTHER_TOKEN = 'other-token-0123456789abcdef';
export const DEPOSIT = parseEther('1');
export const RESERVE = parseEther('1');
/** Recipient's price cap in the contacts: 1000 wei per pixel. */
export const CONTACT_MAX_PRICE_PER_UNIT = 1000n;

export type Env = Record<string, string>;

/** A dev chain with the protocol deployed, one registered recipient and one funded sender. */
export interface SenderChain {
  anvil: AnvilInstance;
  protocol: DeployedProtocol;
  funded: Wallet;
  unfunded: Wallet;
  recipient: Wallet;
  stop(): Promise<void>;
}

export async function startSenderChain(): Promise<SenderChain> {
  const anvil = await startAnvil();
  const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
  const recipient = new Wallet(RECIPIENT_KEY, anvil.provider);
  // The tests mine a few blocks at most after the deployment: 200-block rounds never change under
  // them (so O's and B's auxData views agree), and mining to the first round boundary stays quick.
  const protocol = await deployProtocol(owner, { roundLength: 200n, recipients: [recipient.address] });
  const funded = new Wallet(FUNDED_SENDER_KEY, anvil.provider);
  const broker = ticketBrokerAt(protocol.addresses.ticketBroker, funded);
  await (await broker.fundDepositAndReserve(DEPOSIT, RESERVE, { value: DEPOSIT + RESERVE })).wait();
  return {
    anvil,
    protocol,
    funded,
    unfunded: new Wallet(UNFUNDED_SENDER_KEY, anvil.provider),
    recipient,
    stop: () => anvil.stop(),
  };
}

/** A temp folder with keystores, API tokens and contacts for the sender; removed by `cleanup`. */
export interface SenderFiles {
  dir: string;
  keystoreDir: string;
  passwordFile: string;
  tokensFile: string;
  contactsFile: string;
  cleanup(): void;
}

/** Keystores written with a low scrypt cost (N = 2^10) so tests decrypt them quickly. */
export async function writeKeystore(path: string, privateKey: string, password: string): Promise<void> {
  const wallet = new Wallet(privateKey);
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey }, password, {
    scrypt: { N: 1 << 10 },
  });
  writeFileSync(path, json);
}

/** One client of an API tokens file, as a test writes it (plain token, spend cap optional). */
export interface TestApiClient {
  name: string;
  token: string;
  senders: readonly string[];
  /** spendCap.maxEV, wei. */
  maxEV?: string;
}

/** Writes `clients` as the API tokens file `fileName` in `dir`; returns its path. */
export function writeTokensFile(dir: string, fileName: string, clients: readonly TestApiClient[]): string {
  const lines = ['clients:'];
  for (const c of clients) {
    lines.push(`  - name: ${c.name}`, `    token: "${c.token}"`);
    lines.push(`    senders: [${c.senders.map((a) => `"${a}"`).join(', ')}]`);
    if (c.maxEV !== undefined) lines.push('    spendCap:', `      maxEV: "${c.maxEV}"`);
  }
  const path = join(dir, fileName);
  writeFileSync(path, [...lines, ''].join('\n'));
  return path;
}

export async function writeSenderFiles(chain: SenderChain): Promise<SenderFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'ticketpay-sender-'));
  const keystoreDir = join(dir, 'keystores');
  mkdirSync(keystoreDir);
  await writeKeystore(join(keystoreDir, 'funded.json'), FUNDED_SENDER_KEY, KEYSTORE_PASSWORD);
  await writeKeystore(join(keystoreDir, 'unfunded.json'), UNFUNDED_SENDER_KEY, KEYSTORE_PASSWORD);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${KEYSTORE_PASSWORD}\n`);
  const tokensFile = join(dir, 'tokens.yaml');
  writeFileSync(
    tokensFile,
    [
      'clients:',
      '  - name: gateway',
      `    token: "${GATEWAY_TOKEN}"`,
      `    senders: ["${chain.funded.address}", "${chain.unfunded.address}"]`,
      '  - name: other',
      `    tokenSha256: "${sha256Hex(OTHER_TOKEN)}"`,
      `    senders: ["${chain.unfunded.address}"]`,
      '',
    ].join('\n'),
  );
  const contactsFile = join(dir, 'contacts.yaml');
  writeFileSync(
    contactsFile,
    [
      'contacts:',
      '  - alias: orch-a',
      `    address: "${chain.recipient.address}"`,
      '    serviceUrl: https://orch-a.invalid:8935',
      `    maxPricePerUnit: ${CONTACT_MAX_PRICE_PER_UNIT}`,
      '    pixelsPerUnit: 1',
      '',
    ].join('\n'),
  );
  return {
    dir,
    keystoreDir,
    passwordFile,
    tokensFile,
    contactsFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** This run's Redis, under a key prefix of the test's own `name`. */
export function testRedis(name: string): { url: string; prefix: string } {
  return { url: inject('redisUrl'), prefix: `${inject('redisPrefix')}${name}:` };
}

/** The env of a sender serving the test chain with the files above. */
export function senderEnv(
  chain: SenderChain,
  files: SenderFiles,
  redis: { url: string; prefix: string },
  extra: Env = {},
): Env {
  return {
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    ETH_RPC_URL: chain.anvil.url,
    CONTROLLER_ADDRESS: chain.protocol.controller,
    SENDER_KEYSTORE_DIR: files.keystoreDir,
    SENDER_KEYSTORE_PASSWORD_FILE: files.passwordFile,
    SENDER_API_TOKENS_FILE: files.tokensFile,
    SENDER_CONTACTS_FILE: files.contactsFile,
    SENDER_ALLOWLIST: 'true',
    ...extra,
  };
}

const quietLogger = () => new ConsoleLogger('test', { logLevels: ['fatal'] });

export interface RunningSender {
  app: INestApplication;
  grpcUrl: string;
  httpUrl: string;
  client: SenderClient;
  close(): Promise<void>;
}

/** Boots the Sender in this process (HTTP on a free port, gRPC with the Sender API). */
export async function bootSender(env: Env): Promise<RunningSender> {
  const grpcUrl = `127.0.0.1:${await freePort()}`;
  const config = SenderConfig.fromEnv(env);
  const app = await bootstrapService({
    name: 'sender',
    module: SenderModule.forRoot(config),
    logger: quietLogger(),
    http: { host: '127.0.0.1', port: 0 },
    grpc: { url: grpcUrl, ...SENDER_GRPC, maxRequestBytes: config.values.SENDER_GRPC_MAX_REQUEST_BYTES },
    exitOnSignals: false,
  });
  const client = new SenderClient(grpcUrl);
  return {
    app,
    grpcUrl,
    httpUrl: await app.getUrl(),
    client,
    close: async () => {
      client.close();
      await app.close();
    },
  };
}

/** The error a Sender boot with `env` fails with; undefined (the Sender closed again) when it boots. */
export function bootError(env: Env): Promise<unknown> {
  return bootSender(env).then(
    async (sender) => {
      await sender.close();
      return undefined;
    },
    (e: unknown) => e,
  );
}

type Callback = (err: ServiceError | null, res?: unknown) => void;
type RawClient = Client & Record<string, (req: unknown, meta: Metadata, cb: Callback) => void>;

/** A plain @grpc/grpc-js client of ticketpay.sender.v1.Sender, loaded as a broadcaster would. */
export class SenderClient {
  private readonly raw: RawClient;

  constructor(target: string) {
    const def = loadPackageDefinition(
      loadSync(SENDER_PROTO_PATH, { ...GRPC_LOADER_OPTIONS, includeDirs: SENDER_GRPC.includeDirs }),
    );
    const pkg = def.ticketpay as unknown as { sender: { v1: { Sender: ServiceClientConstructor } } };
    this.raw = new pkg.sender.v1.Sender(target, credentials.createInsecure()) as unknown as RawClient;
  }

  call<T = Record<string, unknown>>(
    method: string,
    req: unknown,
    token: string | null = GATEWAY_TOKEN,
  ): Promise<T> {
    const meta = new Metadata();
    if (token !== null) meta.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      this.raw[method](req, meta, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  close(): void {
    this.raw.close();
  }
}

/** The status and stable code of a failed call. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ status: number; code: string; details: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ServiceError;
    return {
      status: e.code,
      code: String(e.metadata?.get('error-code')[0] ?? ''),
      details: e.details,
    };
  }
  throw new Error('expected the call to fail');
}

/** What an orchestrator holds for the params it hands out: its secret and the recipientRand inputs. */
export interface Orchestrator {
  address: Uint8Array;
  secret: Uint8Array;
}

export function newOrchestrator(recipient: Wallet): Orchestrator {
  return { address: hexToBytes(recipient.address.toLowerCase(), 'recipient', 20), secret: randomBytes(32) };
}

/** A chain, the Sender's files, one Sender booted on them and an orchestrator to take params from. */
export interface SenderHarness {
  chain: SenderChain;
  files: SenderFiles;
  /** senderEnv for this chain, files and Redis prefix, without the spec's tokens file and env. */
  env: Env;
  /** The Sender running now (another one after `restart`). */
  readonly sender: RunningSender;
  orch: Orchestrator;
  /** The funded account's address, lowercase. */
  funded: string;
  /** Closes the Sender and boots it again with the same env; returns the new one. */
  restart(): Promise<RunningSender>;
  /** Closes the Sender, stops the chain and removes the files: whichever of them were started. */
  close(): Promise<void>;
}

export interface SenderHarnessOptions {
  /** An API tokens file to write in the files' folder and boot with, in place of the default one. */
  tokens?: { file: string; clients: (chain: SenderChain) => readonly TestApiClient[] };
  /** Env set over senderEnv's (and the tokens file's). */
  env?: Env;
}

// The setup (and teardown) most Sender specs share, in one place; `name` is the spec's Redis prefix.
export async function startSenderHarness(
  name: string,
  options: SenderHarnessOptions = {},
): Promise<SenderHarness> {
  let chain: SenderChain | undefined;
  let files: SenderFiles | undefined;
  let sender: RunningSender | undefined;
  const close = async () => {
    try {
      await sender?.close();
    } finally {
      try {
        await chain?.stop();
      } finally {
        files?.cleanup();
      }
    }
  };
  try {
    chain = await startSenderChain();
    files = await writeSenderFiles(chain);
    const env = senderEnv(chain, files, testRedis(name));
    const { tokens } = options;
    const tokensFile = tokens && writeTokensFile(files.dir, tokens.file, tokens.clients(chain));
    const bootEnv: Env = {
      ...env,
      ...(tokensFile && { SENDER_API_TOKENS_FILE: tokensFile }),
      ...options.env,
    };
    sender = await bootSender(bootEnv);
    return {
      chain,
      files,
      env,
      get sender() {
        return sender!;
      },
      orch: newOrchestrator(chain.recipient),
      funded: chain.funded.address.toLowerCase(),
      async restart() {
        await sender?.close();
        sender = undefined;
        sender = await bootSender(bootEnv);
        return sender;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface ParamsOptions {
  sender: Wallet;
  expirationBlock: bigint;
  price?: PriceInfo;
  faceValue?: bigint;
  winProb?: bigint;
  /** O's auxData values, bound into recipientRand. */
  expirationParams: TicketExpirationParams;
  /** Default true; false leaves them out of the params to exercise B's fallback to its own view. */
  sendExpirationParams?: boolean;
  /** Override the recipient (e.g. an unknown one). */
  recipient?: Uint8Array;
}

export const DEFAULT_PRICE: PriceInfo = {
  pricePerUnit: 500n,
  pixelsPerUnit: 1n,
  capability: 0,
  constraint: '',
};
export const TICKET_EV = 1_000_000_000n;
export const FACE_VALUE = 1_000_000_000_000_000n;

/** TicketParams as O computes them (§5.2): recipientRand from its secret, only the hash published. */
export function orchestratorParams(
  o: Orchestrator,
  opts: ParamsOptions,
): { params: TicketParams; price: PriceInfo } {
  const price = opts.price ?? DEFAULT_PRICE;
  const faceValue = opts.faceValue ?? FACE_VALUE;
  const winProb = opts.winProb ?? winProbForEV(TICKET_EV, faceValue);
  const seed = bytesToBigInt(randomBytes(32));
  const sender = hexToBytes(opts.sender.address.toLowerCase(), 'sender', 20);
  const rand = computeRecipientRand(o.secret, {
    seed,
    sender,
    faceValue,
    winProb,
    expirationBlock: opts.expirationBlock,
    // An invalid price (a test of its refusal) binds nothing meaningful.
    pricePerPixel: price.pixelsPerUnit > 0n ? pricePerPixel(price) : Rational.ZERO,
    ...opts.expirationParams,
  });
  return {
    params: {
      recipient: opts.recipient ?? o.address,
      faceValue,
      winProb,
      recipientRandHash: recipientRandHash(rand),
      seed,
      expirationBlock: opts.expirationBlock,
      expirationParams: opts.sendExpirationParams === false ? undefined : opts.expirationParams,
    },
    price,
  };
}

/**
 * Params `o` issues now for `chain.funded` (or `overrides.sender`), expiring `validForBlocks`
 * after the current block, for the last initialized round.
 */
export async function freshParams(
  chain: SenderChain,
  o: Orchestrator,
  overrides: Partial<ParamsOptions> = {},
  validForBlocks = 40n,
): Promise<{ params: TicketParams; price: PriceInfo }> {
  const { block, round } = await chainView(chain);
  return orchestratorParams(o, {
    sender: chain.funded,
    expirationBlock: block + validForBlocks,
    expirationParams: round,
    ...overrides,
  });
}

/** The StartSession request a gateway sends for `p`, on behalf of the account at `sender`. */
export function startSessionRequest(p: { params: TicketParams; price: PriceInfo }, sender: string) {
  return {
    sender: hexToBytes(sender.toLowerCase(), 'sender', 20),
    ticketParams: ticketParamsCodec.toMessage(p.params),
    expectedPrice: priceInfoCodec.toMessage(p.price),
  };
}

/** The chain's current block and its last initialized round with that round's block hash. */
export async function chainView(
  chain: SenderChain,
): Promise<{ block: bigint; round: TicketExpirationParams }> {
  const provider = chain.anvil.provider;
  const block = BigInt(await provider.getBlockNumber());
  const rounds = roundsManagerAt(chain.protocol.addresses.roundsManager, provider);
  const creationRound = await rounds.lastInitializedRound();
  const hash = await rounds.blockHashForRound(creationRound);
  return { block, round: { creationRound, creationRoundBlockHash: hexToBytes(hash, 'hash', 32) } };
}
