/**
 * What the Sender benchmarks share: throughput loops, and the real Sender service (from source,
 * in its own process) against a fresh anvil with a funded sender and the local Redis.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptKeystoreJson, parseEther, Wallet } from 'ethers';
import { roundsManagerAt, ticketBrokerAt } from '#app/chain';
import {
  Rational,
  bytesToBigInt,
  computeRecipientRand,
  hexToBytes,
  recipientRandHash,
  type PriceInfo,
  type TicketExpirationParams,
  type TicketParams,
} from '#app/ticket';
import {
  ANVIL_PRIVATE_KEYS,
  deployProtocol,
  flushRedisPrefix,
  freePort,
  startAnvil,
  type AnvilInstance,
} from '#app/testing';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

const PASSWORD = 'bench-password';

/** Runs `op` with `inFlight` concurrent loops for `ms`; returns the units it reported per second. */
export async function rate(ms: number, inFlight: number, op: () => Promise<number>): Promise<number> {
  const deadline = performance.now() + ms;
  const started = performance.now();
  let units = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        // Not `units += await op()`: that reads `units` before the await and loses other loops' counts.
        const n = await op();
        units += n;
      }
    }),
  );
  return units / ((performance.now() - started) / 1000);
}

/** Synchronous variant for in-process signing. */
export function syncRate(ms: number, op: () => number): number {
  const started = performance.now();
  const deadline = started + ms;
  let units = 0;
  while (performance.now() < deadline) units += op();
  return units / ((performance.now() - started) / 1000);
}

export interface BenchSender {
  anvil: AnvilInstance;
  /** The funded sender account (anvil's public dev key #1: test key material only). */
  sender: Wallet;
  senderBytes: Uint8Array;
  recipientBytes: Uint8Array;
  grpcUrl: string;
  httpUrl: string;
  /** Fresh params (a new commitment) for the sender at `price`, as an orchestrator gives them. */
  freshParams(
    price: PriceInfo,
    faceValue: bigint,
    winProb: bigint,
  ): TicketParams & { expirationParams: TicketExpirationParams };
  stop(): Promise<void>;
}

/**
 * Deploys the protocol on a fresh anvil, funds the sender (10 ETH deposit and reserve), writes its
 * keystore and an API token file binding `token` to it, and boots the Sender with `env` on top.
 */
export async function startBenchSender(
  name: string,
  token: string,
  env: Record<string, string>,
): Promise<BenchSender> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `ticketpay-bench:${name}:${Date.now().toString(36)}:`;
  const anvil = await startAnvil();
  const dir = mkdtempSync(join(tmpdir(), `ticketpay-${name}-bench-`));
  let service: ServiceProcess | undefined;
  const stop = async () => {
    await service?.stop();
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
    await flushRedisPrefix(redisUrl, redisPrefix);
  };
  try {
    const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], anvil.provider);
    const recipient = new Wallet(ANVIL_PRIVATE_KEYS[9]);
    const protocol = await deployProtocol(owner, { roundLength: 200n, recipients: [recipient.address] });
    const sender = new Wallet(ANVIL_PRIVATE_KEYS[1], anvil.provider);
    const deposit = parseEther('10');
    await (
      await ticketBrokerAt(protocol.addresses.ticketBroker, sender).fundDepositAndReserve(deposit, deposit, {
        value: 2n * deposit,
      })
    ).wait();

    const keystore = join(dir, 'sender.json');
    writeFileSync(
      keystore,
      await encryptKeystoreJson({ address: sender.address, privateKey: sender.privateKey }, PASSWORD, {
        scrypt: { N: 1 << 10 },
      }),
    );
    writeFileSync(join(dir, 'password'), PASSWORD);
    writeFileSync(
      join(dir, 'tokens.yaml'),
      `clients:\n  - name: bench\n    token: "${token}"\n    senders: ["${sender.address}"]\n`,
    );

    const grpcUrl = `127.0.0.1:${await freePort()}`;
    const httpPort = await freePort();
    service = await startServiceProcess('sender', 'apps/sender/src/main.ts', httpPort, {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      ETH_RPC_URL: anvil.url,
      CONTROLLER_ADDRESS: protocol.controller,
      SENDER_GRPC_URL: grpcUrl,
      SENDER_HTTP_PORT: String(httpPort),
      SENDER_KEYSTORE_FILES: keystore,
      SENDER_KEYSTORE_PASSWORD_FILE: join(dir, 'password'),
      SENDER_API_TOKENS_FILE: join(dir, 'tokens.yaml'),
      ...env,
    });
    const { httpUrl } = service;

    const rounds = roundsManagerAt(protocol.addresses.roundsManager, anvil.provider);
    const creationRound = await rounds.lastInitializedRound();
    const creationRoundBlockHash = hexToBytes(await rounds.blockHashForRound(creationRound), 'hash', 32);
    const expirationBlock = BigInt(await anvil.provider.getBlockNumber()) + 40n;
    const senderBytes = hexToBytes(sender.address.toLowerCase(), 'sender', 20);
    const recipientBytes = hexToBytes(recipient.address.toLowerCase(), 'recipient', 20);
    return {
      anvil,
      sender,
      senderBytes,
      recipientBytes,
      grpcUrl,
      httpUrl,
      freshParams(price, faceValue, winProb) {
        const seed = bytesToBigInt(randomBytes(32));
        const rand = computeRecipientRand(randomBytes(32), {
          seed,
          sender: senderBytes,
          faceValue,
          winProb,
          expirationBlock,
          pricePerPixel: Rational.of(price.pricePerUnit, price.pixelsPerUnit),
          creationRound,
          creationRoundBlockHash,
        });
        return {
          recipient: recipientBytes,
          faceValue,
          winProb,
          recipientRandHash: recipientRandHash(rand),
          seed,
          expirationBlock,
          expirationParams: { creationRound, creationRoundBlockHash },
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
