import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChainFacts } from '#app/chain';
import { parseEnv } from '#app/common';
import type { RecipientSecretEntity, RecipientSecretRepository, SealedSecret } from '#app/database';
import {
  Rational,
  computeRecipientRand,
  recipientRandHash,
  recipientRandInput,
  type TicketBatch,
} from '#app/ticket';
import { RECIPIENT_ENV, RecipientConfig } from '../recipient.config.js';
import { RecipientSecrets } from './recipient-secrets.service.js';

const RECIPIENT = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
const EXPIRY_BLOCKS = 40n;
/** acceptUntilBlock of a secret retired at ROTATED_AT: its expiry plus 5 blocks of grace. */
const ROTATED_AT = 1_000n;
const ACCEPT_UNTIL = ROTATED_AT + EXPIRY_BLOCKS + 5n;

/** The recipient_secret rows of one recipient, shared by the replicas of a test (Postgres's part). */
class SecretTable {
  rows: RecipientSecretEntity[] = [];
  private nextId = 1;
  /** Reads of the table (`recent`). */
  reads = 0;

  repository(): RecipientSecretRepository {
    const repo = {
      recent: (recipient: string, limit: number) => {
        this.reads++;
        return Promise.resolve(
          this.rows
            .filter((r) => r.recipient === recipient)
            .sort((a, b) => Number(b.id) - Number(a.id))
            .slice(0, limit),
        );
      },
      insertFirst: (recipient: string, sealed: SealedSecret) => {
        if (!this.rows.some((r) => r.recipient === recipient && r.retiredAt === null))
          this.insert(recipient, sealed);
        return Promise.resolve();
      },
      rotate: (recipient: string, acceptUntilBlock: bigint, seal: () => SealedSecret) => {
        const current = this.rows.find((r) => r.recipient === recipient && r.retiredAt === null);
        if (!current) return Promise.resolve(false);
        current.retiredAt = new Date();
        current.acceptUntilBlock = acceptUntilBlock;
        this.insert(recipient, seal());
        return Promise.resolve(true);
      },
    };
    return repo as unknown as RecipientSecretRepository;
  }

  private insert(recipient: string, sealed: SealedSecret): void {
    this.rows.push({
      id: String(this.nextId++),
      recipient,
      iv: Buffer.from(sealed.iv),
      ciphertext: Buffer.from(sealed.ciphertext),
      authTag: Buffer.from(sealed.authTag),
      createdAt: new Date(),
      retiredAt: null,
      acceptUntilBlock: null,
    });
  }
}

/** Params for a ticket batch expiring at `expirationBlock`, committed to under `key`, as issued. */
function batchUnder(key: Uint8Array, expirationBlock: bigint): TicketBatch {
  const source = {
    sender: randomBytes(20),
    params: { seed: 42n, faceValue: 1_000n, winProb: 7n, expirationBlock },
    pricePerPixel: Rational.of(3n, 2n),
    expirationParams: { creationRound: 9n, creationRoundBlockHash: randomBytes(32) },
  };
  const rand = computeRecipientRand(key, recipientRandInput(source));
  return {
    ...source,
    params: {
      ...source.params,
      recipient: Buffer.from(RECIPIENT.slice(2), 'hex'),
      recipientRandHash: recipientRandHash(rand),
      expirationParams: source.expirationParams,
    },
    senderParams: [],
  };
}

describe('RecipientSecrets: which secret validates a set of params', () => {
  const config = new RecipientConfig(
    parseEnv(RECIPIENT_ENV, {
      CONTROLLER_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      RECIPIENT_ADDRESS: RECIPIENT,
      RECIPIENT_SECRET_KEY: randomBytes(32).toString('hex'),
      RECIPIENT_PARAMS_EXPIRY_BLOCKS: String(EXPIRY_BLOCKS),
    }),
  );
  const chain = { head: () => ({ l1Block: ROTATED_AT }) } as unknown as ChainFacts;
  let table: SecretTable;
  let replicas: RecipientSecrets[];

  async function replica(): Promise<RecipientSecrets> {
    const secrets = new RecipientSecrets(config, table.repository(), chain);
    replicas.push(secrets);
    await secrets.onModuleInit();
    return secrets;
  }

  /** Past the 1 s during which a miss does not re-read the stored secrets. */
  const later = () => vi.setSystemTime(Date.now() + 1_100);

  beforeEach(() => {
    vi.useFakeTimers();
    table = new SecretTable();
    replicas = [];
  });
  afterEach(() => {
    for (const r of replicas) r.onApplicationShutdown();
    vi.useRealTimers();
  });

  it('params a stale replica issued with the retired secret past its accept-until block: the secret their record names', async () => {
    const stale = await replica();
    const fresh = await replica();
    const retired = stale.current();
    // The stale replica does not re-read the secrets (its timers never fire here, as when its
    // Postgres reads fail): it holds on to the one it has as current.
    expect(await fresh.rotate()).toBe(true);
    expect(fresh.current().id).not.toBe(retired.id);
    expect(stale.current().id).toBe(retired.id);

    const late = batchUnder(stale.current().key, ACCEPT_UNTIL + 1n);
    // The expiry window leaves the retired secret out: the current one is tried, and fails.
    expect(fresh.secretFor(late)).toEqual(fresh.current().key);
    // The params record names the retired secret: it validates them.
    expect(await fresh.secretAfterMiss(late, retired.id)).toEqual(retired.key);
    // Without the id (params registered before records named their secret): refused, as before.
    later();
    expect(await fresh.secretAfterMiss(late, undefined)).toBeUndefined();
    // Within the window the retired secret is still found without the record.
    const early = batchUnder(retired.key, ACCEPT_UNTIL);
    expect(fresh.secretFor(early)).toEqual(retired.key);
  });

  it('a secret rotated in by another replica is read from Postgres when the record names it', async () => {
    const behind = await replica();
    const rotating = await replica();
    expect(await rotating.rotate()).toBe(true);
    const issued = batchUnder(rotating.current().key, ROTATED_AT + EXPIRY_BLOCKS);
    expect(behind.secretFor(issued)).not.toEqual(rotating.current().key);
    later();
    expect(await behind.secretAfterMiss(issued, rotating.current().id)).toEqual(rotating.current().key);
  });

  it('a record naming a secret this recipient does not hold: none, after one re-read', async () => {
    const secrets = await replica();
    const issued = batchUnder(randomBytes(32), ROTATED_AT + EXPIRY_BLOCKS);
    later();
    const reads = table.reads;
    expect(await secrets.secretAfterMiss(issued, '999')).toBeUndefined();
    expect(table.reads).toBe(reads + 1);
    // A retired secret deleted from the table: unknown from the replicas' next read of it on.
    const deleted = secrets.current();
    expect(await secrets.rotate()).toBe(true);
    const params = batchUnder(deleted.key, ROTATED_AT);
    expect(await secrets.secretAfterMiss(params, deleted.id)).toEqual(deleted.key);
    table.rows = table.rows.filter((r) => r.id !== deleted.id);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await secrets.secretAfterMiss(params, deleted.id)).toBeUndefined();
  });
});
