import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ChainFacts } from '#app/chain';
import { RecipientSecretRepository, type SealedSecret } from '#app/database';
import {
  committedRecipientRand,
  recipientRandInput,
  type TicketBatch,
  paramsExpirationBlock,
} from '#app/ticket';
import { currentHead } from '../chain-head.js';
import { RecipientConfig } from '../recipient.config.js';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';
import { SecretCipher } from './secret-cipher.js';

/** One version of the HMAC secret. */
export interface SecretVersion {
  /** Row id, or `config` for RECIPIENT_SECRET. */
  id: string;
  key: Uint8Array;
  /**
   * null for the current secret; for a retired one, the last params expiration block it validates
   * params whose record names no secret (registered before ids were, `secretAfterMiss`).
   */
  acceptUntilBlock: bigint | null;
}

/** How often replicas re-read the stored secrets, so one replica's rotation reaches all of them. */
const REFRESH_INTERVAL_MS = 5_000;
/** A validation miss re-reads the secrets at most this often (a rotation may just have happened). */
const MISS_RELOAD_MIN_INTERVAL_MS = 1_000;
/** How often the rotation age is checked when rotation is on. */
const ROTATION_CHECK_INTERVAL_MS = 60_000;
/**
 * Blocks a retired secret stays accepted, for params whose record names no secret, beyond the
 * expiry of params issued at rotation time: a replica that has not re-read the secrets yet may
 * still issue a few params with the old one. Params whose record names their secret are validated
 * by that secret whatever their expiry (`secretAfterMiss`).
 */
const ROTATION_GRACE_BLOCKS = 5n;
/** Retired secrets kept in memory; older ones have long expired. */
const MAX_RETIRED = 16;

/**
 * The recipientRand HMAC secret (PROTOCOL.md §5.1), persistent so that outstanding params survive
 * restarts and are valid on every replica (go-livepeer draws a new one per process, §14.10).
 * Either given in configuration, or generated once and stored AES-256-GCM encrypted in Postgres;
 * a stored secret can be rotated, and the retired one keeps validating the params it issued. Which
 * secret issued a set of params is in their params record (`RedisNonceLedger.register`, the id of
 * `current()` when they were issued), not inferred from when they expire: a replica that missed a
 * rotation (its Postgres reads failing) or has a longer params expiry issues params with the
 * retired secret that outlive its accept-until block, and those stay valid on every replica.
 */
@Injectable()
export class RecipientSecrets implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RecipientSecrets.name);
  private readonly recipient: string;
  private readonly cipher?: SecretCipher;
  private currentVersion?: SecretVersion;
  private retired: SecretVersion[] = [];
  private lastLoad = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: RecipientConfig,
    private readonly secrets: RecipientSecretRepository,
    private readonly chain: ChainFacts,
  ) {
    this.recipient = config.values.RECIPIENT_ADDRESS;
    const key = config.values.RECIPIENT_SECRET_KEY;
    if (key) this.cipher = new SecretCipher(key);
  }

  async onModuleInit(): Promise<void> {
    const given = this.config.values.RECIPIENT_SECRET;
    if (given) {
      this.currentVersion = { id: 'config', key: given, acceptUntilBlock: null };
      return;
    }
    await this.load();
    if (!this.currentVersion) {
      await this.insertCurrent();
      await this.load();
    }
    this.every(REFRESH_INTERVAL_MS, () => this.load());
    const hours = this.config.values.RECIPIENT_SECRET_ROTATION_HOURS;
    if (hours > 0) {
      const maxAgeMs = hours * 3_600_000;
      this.every(ROTATION_CHECK_INTERVAL_MS, () => this.rotate(maxAgeMs).then(() => undefined));
    }
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** The secret new params are issued with. */
  current(): SecretVersion {
    if (!this.currentVersion) throw new Error('the recipient secret is not loaded yet');
    return this.currentVersion;
  }

  /**
   * The secret to validate `batch`'s params with first, reading nothing: the current one, or a
   * retired one still accepted for the params' expiration block, whichever reproduces the params'
   * recipientRandHash. With no retired candidate (the usual case) the current one, without
   * computing anything; when none matches, the current one too: validation then refuses the batch
   * with INVALID_RECIPIENT_RAND, and `secretAfterMiss` tells what to try next.
   */
  secretFor(batch: TicketBatch): Uint8Array {
    const current = this.current();
    const candidates = this.retired.filter(
      (v) => v.acceptUntilBlock !== null && v.acceptUntilBlock >= batch.params.expirationBlock,
    );
    if (candidates.length === 0) return current.key;
    const input = recipientRandInput(batch);
    for (const version of [current, ...candidates]) {
      if (committedRecipientRand(version.key, input, batch.params.recipientRandHash) !== undefined)
        return version.key;
    }
    return current.key;
  }

  /**
   * After `batch` failed the commitment check with `secretFor`'s pick: the secret to validate it
   * once more with, or undefined when none can do better (the refusal stands). `issuerId` is the id
   * of the secret that issued the params, as their params record names it
   * (`RedisNonceLedger.issuerOf`): that secret, current or retired, whatever its accept-until block
   * (the params' own expiry bounds them), the stored secrets re-read first when it is not known
   * here (another replica rotated since the last read). Still unknown (deleted, older than the
   * retired secrets kept, or never this recipient's), none. Without an id (params registered
   * before ids were): the current one when a re-read changed it, as the expiry window decides.
   */
  async secretAfterMiss(batch: TicketBatch, issuerId: string | undefined): Promise<Uint8Array | undefined> {
    if (issuerId === undefined) return (await this.reloadAfterMiss()) ? this.secretFor(batch) : undefined;
    if (!this.version(issuerId)) await this.reloadAfterMiss();
    return this.version(issuerId)?.key;
  }

  /** The loaded secret with that id, current or retired. */
  private version(id: string): SecretVersion | undefined {
    if (this.currentVersion?.id === id) return this.currentVersion;
    return this.retired.find((v) => v.id === id);
  }

  /**
   * After params failed the commitment check: another replica may have rotated the secret since
   * the last read. Re-reads the stored secrets (at most once a second) and tells whether the
   * current one changed, i.e. whether validating again can succeed.
   */
  private async reloadAfterMiss(): Promise<boolean> {
    if (!this.cipher || Date.now() - this.lastLoad < MISS_RELOAD_MIN_INTERVAL_MS) return false;
    const before = this.currentVersion?.id;
    await this.load();
    return this.currentVersion?.id !== before;
  }

  /**
   * Replaces the stored secret with a fresh one. The old one keeps validating the params whose
   * record names it; for params registered before records named their secret, it stays accepted
   * for those expiring up to the current L1 block + params expiry (+ a few blocks of grace for
   * replicas catching up).
   * With `olderThanMs`, only a secret at least that old is replaced, so replicas racing on a
   * schedule rotate once. Returns whether a rotation happened.
   */
  async rotate(olderThanMs?: number): Promise<boolean> {
    if (!this.cipher) {
      throw new RecipientError(
        RecipientErrorCode.SECRET_ROTATION_UNSUPPORTED,
        'the recipient secret comes from RECIPIENT_SECRET: change it there',
      );
    }
    // The retired secret outlives the last params it issued (issued at the head seen now).
    const acceptUntil =
      paramsExpirationBlock(
        currentHead(this.chain).l1Block,
        this.config.values.RECIPIENT_PARAMS_EXPIRY_BLOCKS,
      ) + ROTATION_GRACE_BLOCKS;
    const rotated = await this.secrets.rotate(this.recipient, acceptUntil, () => this.seal(), olderThanMs);
    if (rotated) {
      this.logger.log({
        msg: 'recipient secret rotated',
        recipient: this.recipient,
        acceptUntilBlock: acceptUntil.toString(),
      });
      await this.load();
    }
    return rotated;
  }

  /** Stores a first secret unless another replica just did. */
  private async insertCurrent(): Promise<void> {
    await this.secrets.insertFirst(this.recipient, this.seal());
  }

  /** A fresh random secret, sealed under the configured key. */
  private seal(): SealedSecret {
    return this.cipher!.seal(randomBytes(32), this.recipient);
  }

  private async load(): Promise<void> {
    this.lastLoad = Date.now();
    const rows = await this.secrets.recent(this.recipient, MAX_RETIRED + 1);
    const versions = rows.map((row): SecretVersion => ({
      id: row.id.toString(),
      key: this.cipher!.open(row, this.recipient),
      acceptUntilBlock: row.retiredAt ? row.acceptUntilBlock : null,
    }));
    const current = versions.find((v) => v.acceptUntilBlock === null);
    if (current) this.currentVersion = current;
    this.retired = versions.filter((v) => v.acceptUntilBlock !== null);
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((err: unknown) =>
        this.logger.warn({ msg: 'recipient secret task failed', error: (err as Error).message }),
      );
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
