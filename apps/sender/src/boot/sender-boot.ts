import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigError } from '#app/common';
import { keystorePaths, loadKeystores, type SenderAccount } from '../accounts/keystore-loader.js';
import { SenderAccounts } from '../accounts/sender-accounts.js';
import { ApiClients } from '../auth/api-clients.js';
import { parseApiTokens, type ApiClient } from '../auth/api-tokens.js';
import { ContactBook } from '../contacts/contact-book.js';
import { parseContacts, type Contact } from '../contacts/contacts.js';
import { SenderMetrics } from '../metrics/sender.metrics.js';
import { SenderConfig } from '../sender.config.js';
import { readSecretFile, readYamlFile } from './config-files.js';

/**
 * Loads what the settings point at (keystores, API tokens, contacts) before the servers accept
 * calls. Every problem is collected and the boot fails once with a ConfigError listing them all;
 * no password, key or token appears in a message or a log line.
 */
@Injectable()
export class SenderBoot implements OnModuleInit {
  private readonly logger = new Logger(SenderBoot.name);

  constructor(
    private readonly config: SenderConfig,
    private readonly accounts: SenderAccounts,
    private readonly clients: ApiClients,
    private readonly contacts: ContactBook,
    private readonly metrics: SenderMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    const v = this.config.values;
    const problems: string[] = [];
    if (v.SENDER_NONCE_REFRESH_AT > v.SENDER_NONCE_CAP) {
      problems.push(
        `SENDER_NONCE_REFRESH_AT (${v.SENDER_NONCE_REFRESH_AT}) must not exceed SENDER_NONCE_CAP (${v.SENDER_NONCE_CAP})`,
      );
    }
    if (v.SENDER_MAX_BATCH_SIZE > v.SENDER_NONCE_CAP) {
      problems.push(
        `SENDER_MAX_BATCH_SIZE (${v.SENDER_MAX_BATCH_SIZE}) must not exceed SENDER_NONCE_CAP (${v.SENDER_NONCE_CAP})`,
      );
    }
    const rate = v.SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER;
    if (rate > 0 && v.SENDER_MAX_BATCH_SIZE > rate) {
      // A batch above the per-second cap could never be signed: refuse it as too large instead.
      problems.push(
        `SENDER_MAX_BATCH_SIZE (${v.SENDER_MAX_BATCH_SIZE}) must not exceed SENDER_MAX_TICKETS_PER_SECOND_PER_SENDER (${rate})`,
      );
    }
    const accounts = await this.loadAccounts(problems);
    const clients = this.loadClients(accounts, problems);
    const contacts = this.loadContacts(problems);
    if (problems.length > 0) throw new ConfigError(problems);

    this.accounts.load(accounts);
    this.clients.load(clients);
    this.contacts.load(contacts, v.SENDER_ALLOWLIST);
    this.metrics.accounts.set(accounts.length);
    this.logger.log({
      msg: 'sender accounts loaded',
      accounts: accounts.map((a) => a.addressHex),
      apiClients: clients.map((c) => c.name),
      contacts: contacts.length,
      allowlist: v.SENDER_ALLOWLIST,
    });
  }

  private async loadAccounts(problems: string[]): Promise<SenderAccount[]> {
    const v = this.config.values;
    const paths = keystorePaths({ dir: v.SENDER_KEYSTORE_DIR, files: v.SENDER_KEYSTORE_FILES }, problems);
    if (paths.length === 0) return [];
    const fromEnv = v.SENDER_KEYSTORE_PASSWORD;
    const file = v.SENDER_KEYSTORE_PASSWORD_FILE;
    if (fromEnv !== undefined && file !== undefined) {
      problems.push(
        'give the keystore password once: SENDER_KEYSTORE_PASSWORD or SENDER_KEYSTORE_PASSWORD_FILE',
      );
      return [];
    }
    const password =
      fromEnv ??
      (file !== undefined ? readSecretFile(file, 'SENDER_KEYSTORE_PASSWORD_FILE', problems) : undefined);
    if (password === undefined) {
      if (file === undefined) {
        problems.push(
          `${paths.length} keystore(s) configured but no password: set SENDER_KEYSTORE_PASSWORD or SENDER_KEYSTORE_PASSWORD_FILE`,
        );
      }
      return [];
    }
    return loadKeystores(paths, password, problems);
  }

  private loadClients(accounts: readonly SenderAccount[], problems: string[]): ApiClient[] {
    const path = this.config.values.SENDER_API_TOKENS_FILE;
    if (path === undefined) return [];
    const doc = readYamlFile(path, 'SENDER_API_TOKENS_FILE', problems, { secret: true });
    if (doc === undefined) return [];
    const clients = parseApiTokens(doc, path, problems);
    const loaded = new Set(accounts.map((a) => a.addressHex));
    for (const client of clients) {
      for (const sender of client.senders) {
        if (!loaded.has(sender)) {
          problems.push(
            `SENDER_API_TOKENS_FILE ${path}: client "${client.name}" names sender ${sender}, which no keystore holds`,
          );
        }
      }
    }
    return clients;
  }

  private loadContacts(problems: string[]): Contact[] {
    const { SENDER_CONTACTS_FILE: path, SENDER_ALLOWLIST: allowlist } = this.config.values;
    if (path === undefined) {
      if (allowlist)
        problems.push(
          'SENDER_ALLOWLIST is on but SENDER_CONTACTS_FILE is not set: no recipient could be paid',
        );
      return [];
    }
    const doc = readYamlFile(path, 'SENDER_CONTACTS_FILE', problems);
    return doc === undefined ? [] : parseContacts(doc, path, problems);
  }
}
