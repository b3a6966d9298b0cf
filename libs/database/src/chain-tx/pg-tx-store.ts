import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ChainTxStatus,
  TxStore,
  type ChainTxRecord,
  type MinedL1Blocks,
  type NewChainTx,
  type TxFinish,
  type TxReplacement,
  type TxVersion,
} from '#app/chain';
import type { DbTransaction } from '../unit-of-work.js';
import { ChainTxEntity } from './chain-tx.entity.js';
import { SignerNonceEntity } from './signer-nonce.entity.js';

const str = (v: bigint | null | undefined): string | null =>
  v === null || v === undefined ? null : v.toString();

/** The TxManager's persisted nonce source and tx journal, in Postgres (`chain_tx`, `signer_nonce`). */
@Injectable()
export class PgTxStore extends TxStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {
    super();
  }

  async insert(tx: NewChainTx): Promise<ChainTxRecord> {
    return this.ds.transaction(async (em) => {
      // Locks the signer's nonce row for the rest of this transaction: two writers for one signer
      // are serialized here, and the partial unique index refuses a second live tx at one nonce.
      await em.query(
        `INSERT INTO signer_nonce (chain_id, signer, next_nonce, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (chain_id, signer)
         DO UPDATE SET next_nonce = GREATEST(signer_nonce.next_nonce, EXCLUDED.next_nonce), updated_at = now()`,
        [tx.chainId.toString(), tx.signer, (tx.nonce + 1n).toString()],
      );
      const repo = em.getRepository(ChainTxEntity);
      const saved = await repo.save(
        repo.create({
          chainId: tx.chainId,
          signer: tx.signer,
          nonce: tx.nonce,
          purpose: tx.purpose,
          to: tx.to,
          data: tx.data,
          value: tx.value,
          gasLimit: tx.gasLimit,
          maxFeePerGas: tx.maxFeePerGas,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
          gasPrice: tx.gasPrice,
          refs: [...tx.refs],
          hashes: [tx.hash],
          rawTx: tx.rawTx,
          status: ChainTxStatus.PENDING,
          sentBlock: tx.sentBlock,
          judgedL1Block: tx.judgedL1Block ?? null,
          replacements: 0,
          minedHash: null,
          blockNumber: null,
          minedL1Block: null,
          gasUsed: null,
          effectiveGasPrice: null,
          errorCode: null,
          finishedAt: null,
        }),
      );
      return toRecord(saved);
    });
  }

  async addReplacement(id: string, r: TxReplacement): Promise<ChainTxRecord> {
    await this.ds.query(
      `UPDATE chain_tx SET hashes = array_append(hashes, $2), raw_tx = $3, max_fee_per_gas = $4,
         max_priority_fee_per_gas = $5, gas_price = $6, sent_block = $7, replacements = replacements + 1,
         updated_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [
        id,
        r.hash,
        r.rawTx,
        str(r.maxFeePerGas),
        str(r.maxPriorityFeePerGas),
        str(r.gasPrice),
        r.sentBlock.toString(),
      ],
    );
    return this.mustGet(id);
  }

  async finish(id: string, o: TxFinish): Promise<ChainTxRecord> {
    await this.ds.query(
      `UPDATE chain_tx SET status = $2, mined_hash = $3, block_number = $4, block_hash = $5,
         gas_used = $6, effective_gas_price = $7, error_code = $8, finished_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [id, ...finishValues(o)],
    );
    return this.mustGet(id);
  }

  /** TxStore.correct; `trx` is a UnitOfWork transaction. */
  override async correct(
    id: string,
    from: ChainTxStatus | TxVersion,
    o: TxFinish,
    trx?: DbTransaction,
  ): Promise<boolean> {
    const version = typeof from === 'string' ? { status: from, replacements: null } : from;
    // TypeORM answers an UPDATE with [rows, row count].
    const [, count] = await (trx ?? this.ds.manager).query<[unknown[], number]>(
      `UPDATE chain_tx SET status = $3, mined_hash = $4, block_number = $5, block_hash = $6,
         gas_used = $7, effective_gas_price = $8, error_code = $9, finished_at = COALESCE(finished_at, now()),
         updated_at = now()
       WHERE id = $1 AND status = $2 AND ($10::int IS NULL OR replacements = $10)`,
      [id, version.status, ...finishValues(o), version.replacements],
    );
    return count > 0;
  }

  /** TxStore.reopen; `trx` is a UnitOfWork transaction. */
  override async reopen(id: string, from: TxVersion, trx?: DbTransaction): Promise<ChainTxRecord | null> {
    const [rows] = await (trx ?? this.ds.manager).query<[{ id: string }[], number]>(
      `UPDATE chain_tx SET status = 'pending', mined_hash = NULL, block_number = NULL, block_hash = NULL, gas_used = NULL,
         effective_gas_price = NULL, mined_l1_block = NULL, error_code = NULL, finished_at = NULL,
         judged_l1_block = NULL, updated_at = now()
       WHERE id = $1 AND status = $2 AND replacements = $3 AND status <> 'pending'
       RETURNING id`,
      [id, from.status, from.replacements],
    );
    if (rows.length === 0) return null;
    const row = await (trx ?? this.ds.manager).getRepository(ChainTxEntity).findOneBy({ id });
    return row ? toRecord(row) : null;
  }

  /** TxStore.holdsVersion; `trx` is a UnitOfWork transaction. */
  override async holdsVersion(id: string, version: TxVersion, trx: DbTransaction): Promise<boolean> {
    const rows = await trx.query<unknown[]>(
      `SELECT 1 FROM chain_tx WHERE id = $1 AND status = $2 AND replacements = $3 FOR UPDATE`,
      [id, version.status, version.replacements],
    );
    return rows.length > 0;
  }

  async get(id: string): Promise<ChainTxRecord | null> {
    const row = await this.ds.getRepository(ChainTxEntity).findOneBy({ id });
    return row ? toRecord(row) : null;
  }

  async findSigned(
    chainId: bigint,
    signer: string,
    nonce: bigint,
    hash: string,
  ): Promise<ChainTxRecord | null> {
    return this.atNonce(chainId, signer, nonce, ':hash = ANY(t.hashes)', { hash });
  }

  async liveAtNonce(chainId: bigint, signer: string, nonce: bigint): Promise<ChainTxRecord | null> {
    return this.atNonce(chainId, signer, nonce, 't.status <> :dropped', { dropped: ChainTxStatus.DROPPED });
  }

  /** The signer's tx at `nonce` that also meets `and`. */
  private async atNonce(
    chainId: bigint,
    signer: string,
    nonce: bigint,
    and: string,
    params: Record<string, string>,
  ): Promise<ChainTxRecord | null> {
    const row = await this.ds
      .getRepository(ChainTxEntity)
      .createQueryBuilder('t')
      .where(`t.chain_id = :chainId AND t.signer = :signer AND t.nonce = :nonce AND ${and}`, {
        chainId: chainId.toString(),
        signer,
        nonce: nonce.toString(),
        ...params,
      })
      .getOne();
    return row ? toRecord(row) : null;
  }

  async latestLive(chainId: bigint, signer: string, limit: number): Promise<ChainTxRecord[]> {
    // A short backward range of uq_chain_tx_live_nonce, however long the signer's history.
    const rows = await this.ds
      .getRepository(ChainTxEntity)
      .createQueryBuilder('t')
      .where(`t.chain_id = :chainId AND t.signer = :signer AND t.status <> 'dropped'`, {
        chainId: chainId.toString(),
        signer,
      })
      .orderBy('t.nonce', 'DESC')
      .limit(limit)
      .getMany();
    return rows.map(toRecord);
  }

  async listOpen(chainId: bigint, signer: string): Promise<ChainTxRecord[]> {
    const rows = await this.ds
      .getRepository(ChainTxEntity)
      .createQueryBuilder('t')
      .where('t.chain_id = :chainId AND t.signer = :signer AND t.status = :status', {
        chainId: chainId.toString(),
        signer,
        status: ChainTxStatus.PENDING,
      })
      .orderBy('t.nonce', 'ASC')
      .getMany();
    return rows.map(toRecord);
  }

  async latestByRef(ref: string): Promise<ChainTxRecord | null> {
    const row = await this.ds
      .getRepository(ChainTxEntity)
      .createQueryBuilder('t')
      .where(':ref = ANY(t.refs)', { ref })
      .orderBy('t.id', 'DESC')
      .limit(1)
      .getOne();
    return row ? toRecord(row) : null;
  }

  async allByRef(ref: string): Promise<ChainTxRecord[]> {
    const rows = await this.ds
      .getRepository(ChainTxEntity)
      .createQueryBuilder('t')
      .where(':ref = ANY(t.refs)', { ref })
      .orderBy('t.id', 'ASC')
      .getMany();
    return rows.map(toRecord);
  }

  override async latestIdsByRefs(refs: readonly string[]): Promise<Map<string, string>> {
    if (refs.length === 0) return new Map();
    // The GIN index on refs finds the txs; only (ref, id) pairs come back, not the txs' calldata.
    const rows = await this.ds.query<{ ref: string; id: string }[]>(
      `SELECT DISTINCT ON (r.ref) r.ref, t.id::text AS id
         FROM chain_tx t CROSS JOIN LATERAL unnest(t.refs) AS r(ref)
        WHERE t.refs && $1::text[] AND r.ref = ANY($1::text[])
        ORDER BY r.ref, t.id DESC`,
      [[...refs]],
    );
    return new Map(rows.map((r) => [r.ref, r.id]));
  }

  async recordMinedL1Block(id: string, l1Block: bigint): Promise<void> {
    await this.ds.query(`UPDATE chain_tx SET mined_l1_block = $2, updated_at = now() WHERE id = $1`, [
      id,
      l1Block.toString(),
    ]);
  }

  async recentMinedL1Blocks(chainId: bigint, signer: string, limit: number): Promise<MinedL1Blocks[]> {
    // idx_chain_tx_mined_l1 answers it: the signer's newest mined rows, without their calldata.
    const rows = await this.ds.query<{ judged: string; mined: string }[]>(
      `SELECT judged_l1_block::text AS judged, mined_l1_block::text AS mined FROM chain_tx
        WHERE chain_id = $1 AND signer = $2 AND mined_l1_block IS NOT NULL AND judged_l1_block IS NOT NULL
        ORDER BY block_number DESC, id DESC
        LIMIT $3`,
      [chainId.toString(), signer, limit],
    );
    return rows.reverse().map((r) => ({ judgedL1Block: BigInt(r.judged), minedL1Block: BigInt(r.mined) }));
  }

  async storedNextNonce(chainId: bigint, signer: string): Promise<bigint | null> {
    const row = await this.ds
      .getRepository(SignerNonceEntity)
      .createQueryBuilder('n')
      .where('n.chain_id = :chainId AND n.signer = :signer', { chainId: chainId.toString(), signer })
      .getOne();
    return row ? row.nextNonce : null;
  }

  async saveNextNonce(chainId: bigint, signer: string, next: bigint): Promise<void> {
    await this.ds.query(
      `INSERT INTO signer_nonce (chain_id, signer, next_nonce, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (chain_id, signer) DO UPDATE SET next_nonce = EXCLUDED.next_nonce, updated_at = now()`,
      [chainId.toString(), signer, next.toString()],
    );
  }

  private async mustGet(id: string): Promise<ChainTxRecord> {
    const record = await this.get(id);
    if (!record) throw new Error(`chain_tx ${id} vanished`);
    return record;
  }
}

/** A final outcome's columns, in the order finish and correct write them. */
function finishValues(o: TxFinish): (string | null)[] {
  return [
    o.status,
    o.minedHash ?? null,
    str(o.blockNumber),
    o.blockHash ?? null,
    str(o.gasUsed),
    str(o.effectiveGasPrice),
    o.errorCode ?? null,
  ];
}

function toRecord(e: ChainTxEntity): ChainTxRecord {
  return {
    id: e.id,
    chainId: e.chainId,
    signer: e.signer,
    nonce: e.nonce,
    purpose: e.purpose,
    to: e.to,
    data: e.data,
    value: e.value,
    gasLimit: e.gasLimit,
    maxFeePerGas: e.maxFeePerGas,
    maxPriorityFeePerGas: e.maxPriorityFeePerGas,
    gasPrice: e.gasPrice,
    refs: e.refs,
    hashes: e.hashes,
    rawTx: e.rawTx,
    status: e.status as ChainTxStatus,
    sentBlock: e.sentBlock,
    judgedL1Block: e.judgedL1Block,
    replacements: e.replacements,
    minedHash: e.minedHash,
    blockNumber: e.blockNumber,
    blockHash: e.blockHash,
    minedL1Block: e.minedL1Block,
    gasUsed: e.gasUsed,
    effectiveGasPrice: e.effectiveGasPrice,
    errorCode: e.errorCode,
    createdAt: e.createdAt,
    finishedAt: e.finishedAt,
  };
}
