import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * One open database transaction, as the writers' methods take it (their last, optional argument):
 * passed to methods of different repositories, their statements commit together or not at all,
 * while each table keeps its one writer.
 */
export type DbTransaction = EntityManager;

/** Runs writes of several repositories as one database transaction. */
@Injectable()
export class UnitOfWork {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (or the
   * connection is lost before the commit, e.g. at shutdown), and then rethrown.
   */
  run<T>(work: (trx: DbTransaction) => Promise<T>): Promise<T> {
    return this.ds.transaction(work);
  }
}
