import { Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, HealthProbe } from '#app/common';
import { RedeemerLeases } from './chain-tx/signer-lease.js';
import { dataSourceOptions } from './data-source.js';
import { PendingFaceValue } from './read-model/pending-face-value.js';
import { RedemptionStats } from './read-model/redemption-stats.js';
import { SenderSummaries } from './read-model/sender-summaries.js';
import { TicketQueries } from './read-model/ticket-queries.js';
import { RecipientSecretRepository } from './recipient-secret/recipient-secret.repository.js';
import { RedemptionRepository } from './redemption/redemption.repository.js';
import { UnitOfWork } from './unit-of-work.js';
import { WinningTicketRepository } from './winning-ticket/winning-ticket.repository.js';

/**
 * Repositories (writers, one per aggregate), the unit of work that commits several writers' moves
 * together, and read models every service may inject.
 */
const PROVIDERS = [
  WinningTicketRepository,
  RedemptionRepository,
  RecipientSecretRepository,
  UnitOfWork,
  TicketQueries,
  RedemptionStats,
  SenderSummaries,
  PendingFaceValue,
  RedeemerLeases,
];

export enum DatabaseErrorCode {
  PENDING_MIGRATIONS = 'PENDING_MIGRATIONS',
}

export class DatabaseError extends AppError<DatabaseErrorCode> {
  readonly domain = 'database';
}

/** Refuses to start a service on a schema that is behind the code. */
@Injectable()
class MigrationGuard implements OnModuleInit {
  constructor(private readonly ds: DataSource) {}

  async onModuleInit(): Promise<void> {
    if (await this.ds.showMigrations()) {
      throw new DatabaseError(
        DatabaseErrorCode.PENDING_MIGRATIONS,
        'the database has pending migrations: run `npm run migrate` first',
      );
    }
  }
}

@Injectable()
export class DatabaseProbe extends HealthProbe {
  readonly name = 'database';

  constructor(private readonly ds: DataSource) {
    super();
  }

  async check(): Promise<Record<string, unknown>> {
    await this.ds.query('SELECT 1');
    return {};
  }
}

@Module({})
export class DatabaseModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(url), retryAttempts: 3, retryDelay: 1_000 })],
      providers: [MigrationGuard, ...PROVIDERS],
      exports: PROVIDERS,
    };
  }
}
