import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { RecipientSecretEntity } from './recipient-secret.entity.js';

/** A secret as stored: AES-256-GCM output (the key is the service's, never here). */
export interface SealedSecret {
  iv: Uint8Array;
  ciphertext: Uint8Array;
  authTag: Uint8Array;
}

const INSERT = `INSERT INTO recipient_secret (recipient, iv, ciphertext, auth_tag) VALUES ($1, $2, $3, $4)`;

function insertParams(recipient: string, sealed: SealedSecret): unknown[] {
  return [recipient, Buffer.from(sealed.iv), Buffer.from(sealed.ciphertext), Buffer.from(sealed.authTag)];
}

/**
 * A Recipient's recipientRand secrets: one current (`retired_at IS NULL`, enforced by a partial
 * unique index), and retired ones still accepted up to their `accept_until_block`.
 */
@Injectable()
export class RecipientSecretRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The newest `limit` secrets of `recipient`, newest first. */
  recent(recipient: string, limit: number): Promise<RecipientSecretEntity[]> {
    return this.ds.getRepository(RecipientSecretEntity).find({
      where: { recipient },
      order: { id: 'DESC' },
      take: limit,
    });
  }

  /** Stores a first secret unless another replica just did (the partial unique index decides). */
  async insertFirst(recipient: string, sealed: SealedSecret): Promise<void> {
    await this.ds.query(
      `${INSERT} ON CONFLICT (recipient) WHERE retired_at IS NULL DO NOTHING`,
      insertParams(recipient, sealed),
    );
  }

  /**
   * Retires the current secret (accepted until `acceptUntilBlock`) and stores `seal()` as the new
   * one, in one transaction; with `olderThanMs`, only a current secret at least that old is
   * replaced, so replicas racing on a schedule rotate once. Returns whether it rotated.
   */
  rotate(
    recipient: string,
    acceptUntilBlock: bigint,
    seal: () => SealedSecret,
    olderThanMs?: number,
  ): Promise<boolean> {
    return this.ds.transaction(async (manager: EntityManager) => {
      const rows = await manager.query<{ id: string }[]>(
        `SELECT id FROM recipient_secret
          WHERE recipient = $1 AND retired_at IS NULL
            AND ($2::float8 IS NULL OR created_at <= now() - make_interval(secs => $2::float8 / 1000))
          FOR UPDATE`,
        [recipient, olderThanMs ?? null],
      );
      if (rows.length === 0) return false;
      await manager.query(
        `UPDATE recipient_secret SET retired_at = now(), accept_until_block = $2 WHERE id = $1`,
        [rows[0].id, acceptUntilBlock.toString()],
      );
      await manager.query(INSERT, insertParams(recipient, seal()));
      return true;
    });
  }
}
