import { readFileSync } from 'node:fs';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigError, HealthRunner } from '#app/common';
import {
  keystorePaths,
  loadKeystores,
  senderAccount,
  type SenderAccount,
} from '../accounts/keystore-loader.js';
import { SenderAccounts } from '../accounts/sender-accounts.js';
import { ApiClients } from '../auth/api-clients.js';
import { parseApiTokens, type ApiClient } from '../auth/api-tokens.js';
import { ContactBook } from '../contacts/contact-book.js';
import { parseContacts, type Contact } from '../contacts/contacts.js';
import { SenderMetrics } from '../metrics/sender.metrics.js';
import { SenderConfig } from '../sender.config.js';
import { loadWeb3SignerAccounts } from '../signing/web3signer-accounts.js';
import type { Web3SignerClient, Web3SignerOptions } from '../signing/web3signer-client.js';
import { Web3SignerProbe } from '../signing/web3signer-probe.js';
import { readSecretFile, readYamlFile } from './config-files.js';

/**
 * Loads what the settings point at (keystores, Web3Signer accounts, API tokens, contacts) before
 * the servers accept calls. Every problem is collected and the boot fails once with a ConfigError listing them all;
 * no password, key or token appears in a message or a log line.
 */
@Injectable()
export class SenderBoot implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SenderBoot.name);
  private web3signer: Web3SignerClient | undefined;

  constructor(
    private readonly config: SenderConfig,
    private readonly accounts: SenderAccounts,
    private readonly clients: ApiClients,
    private readonly contacts: ContactBook,
    private readonly metrics: SenderMetrics,
    private readonly health: HealthRunner,
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
    accounts.push(...(await this.loadWeb3SignerAccounts(accounts, problems)));
    const clients = this.loadClients(accounts, problems);
    const contacts = this.loadContacts(problems);
    this.checkRemoteSigner(accounts, clients, problems);
    if (problems.length > 0) throw new ConfigError(problems);

    this.accounts.load(accounts);
    this.clients.load(clients);
    this.contacts.load(contacts, v.SENDER_ALLOWLIST);
    this.metrics.accounts.set(accounts.length);
    this.logger.log({
      msg: 'sender accounts loaded',
      accounts: accounts.map((a) => ({ address: a.addressHex, source: a.source })),
      apiClients: clients.map((c) => c.name),
      contacts: contacts.length,
      allowlist: v.SENDER_ALLOWLIST,
    });
  }

  /**
   * The remote signer signs from the deposit for whoever reaches it: without API tokens or a
   * webhook it may only listen on loopback, unless the operator says otherwise (go-livepeer #3959).
   */
  private checkRemoteSigner(
    accounts: readonly SenderAccount[],
    clients: readonly ApiClient[],
    problems: string[],
  ): void {
    const v = this.config.values;
    if (v.SENDER_REMOTE_SIGNER_DISCOVERY && !v.SENDER_REMOTE_SIGNER) {
      problems.push(
        'SENDER_REMOTE_SIGNER_DISCOVERY is part of the remote signer: set SENDER_REMOTE_SIGNER=true',
      );
    }
    const webhook = v.SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL !== undefined;
    for (const [name, set] of [
      ['SENDER_REMOTE_SIGNER_ORCHESTRATORS', v.SENDER_REMOTE_SIGNER_ORCHESTRATORS.length > 0],
      ['SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL', webhook],
    ] as const) {
      if (set && !v.SENDER_REMOTE_SIGNER_DISCOVERY) {
        problems.push(`${name} is read only by discovery: set SENDER_REMOTE_SIGNER_DISCOVERY=true`);
      }
    }
    // go-livepeer takes the webhook and ignores -orchAddr without a word.
    if (webhook && v.SENDER_REMOTE_SIGNER_ORCHESTRATORS.length > 0) {
      problems.push(
        'set either SENDER_REMOTE_SIGNER_ORCH_WEBHOOK_URL or SENDER_REMOTE_SIGNER_ORCHESTRATORS, not both',
      );
    }
    if (!v.SENDER_REMOTE_SIGNER) return;
    if (accounts.length === 0) problems.push('SENDER_REMOTE_SIGNER is on but no sender account is loaded');
    const auth = clients.length > 0 || v.SENDER_REMOTE_SIGNER_WEBHOOK_URL !== undefined;
    if (auth) return;
    if (!isLoopbackHost(v.HTTP_HOST) && !v.SENDER_REMOTE_SIGNER_ALLOW_NO_AUTH) {
      problems.push(
        `SENDER_REMOTE_SIGNER is on, HTTP_HOST ${v.HTTP_HOST} is not a loopback address and no auth is configured: ` +
          'anyone who reaches it could spend the deposit. Set SENDER_API_TOKENS_FILE or ' +
          'SENDER_REMOTE_SIGNER_WEBHOOK_URL, bind HTTP_HOST to 127.0.0.1, or accept the risk with ' +
          'SENDER_REMOTE_SIGNER_ALLOW_NO_AUTH=true',
      );
      return;
    }
    this.logger.warn({
      msg: 'remote signer runs without auth: every caller that reaches the HTTP port can spend the deposit',
      httpHost: v.HTTP_HOST,
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

  /** After the gRPC calls in flight have drained (bootstrapService): they may still be signing. */
  onApplicationShutdown(): void {
    this.web3signer?.close();
  }

  /** Accounts whose keys Web3Signer holds; one that a keystore already loaded is a problem. */
  private async loadWeb3SignerAccounts(
    loaded: readonly SenderAccount[],
    problems: string[],
  ): Promise<SenderAccount[]> {
    const options = this.web3SignerOptions(problems);
    if (options === undefined) return [];
    const { client, signers } = await loadWeb3SignerAccounts(
      options,
      this.config.values.SENDER_WEB3SIGNER_ACCOUNTS,
      problems,
    );
    this.web3signer = client;
    const fromKeystores = new Map(loaded.map((a) => [a.addressHex, a.source]));
    const accounts: SenderAccount[] = [];
    for (const signer of signers) {
      const keystore = fromKeystores.get(signer.addressHex);
      if (keystore !== undefined) {
        problems.push(
          `SENDER_WEB3SIGNER_URL: account ${signer.addressHex} is already loaded from keystore ${keystore}`,
        );
      } else {
        accounts.push(senderAccount(signer));
      }
    }
    this.health.add(
      new Web3SignerProbe(
        client,
        accounts.map((a) => a.addressHex),
      ),
    );
    return accounts;
  }

  /** The Web3Signer client settings, files read; undefined when no URL is set or a file is unreadable. */
  private web3SignerOptions(problems: string[]): Web3SignerOptions | undefined {
    const v = this.config.values;
    const url = v.SENDER_WEB3SIGNER_URL;
    const tlsSet = [
      v.SENDER_WEB3SIGNER_TLS_CA_FILE,
      v.SENDER_WEB3SIGNER_TLS_CERT_FILE,
      v.SENDER_WEB3SIGNER_TLS_KEY_FILE,
    ];
    if (url === undefined) {
      if (v.SENDER_WEB3SIGNER_ACCOUNTS.length > 0 || tlsSet.some((f) => f !== undefined)) {
        problems.push('SENDER_WEB3SIGNER_* settings are given but SENDER_WEB3SIGNER_URL is not set');
      }
      return undefined;
    }
    if (
      (v.SENDER_WEB3SIGNER_TLS_CERT_FILE === undefined) !==
      (v.SENDER_WEB3SIGNER_TLS_KEY_FILE === undefined)
    ) {
      problems.push('SENDER_WEB3SIGNER_TLS_CERT_FILE and SENDER_WEB3SIGNER_TLS_KEY_FILE go together');
      return undefined;
    }
    if (!url.startsWith('https:') && tlsSet.some((f) => f !== undefined)) {
      problems.push('SENDER_WEB3SIGNER_TLS_* files are given but SENDER_WEB3SIGNER_URL is not https');
      return undefined;
    }
    const before = problems.length;
    const file = (path: string | undefined, setting: string): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        problems.push(`${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        return undefined;
      }
    };
    const tokenFile = v.SENDER_WEB3SIGNER_BEARER_TOKEN_FILE;
    const options: Web3SignerOptions = {
      url,
      timeoutMs: v.SENDER_WEB3SIGNER_TIMEOUT_MS,
      maxInFlight: v.SENDER_WEB3SIGNER_MAX_IN_FLIGHT,
      ca: file(v.SENDER_WEB3SIGNER_TLS_CA_FILE, 'SENDER_WEB3SIGNER_TLS_CA_FILE'),
      cert: file(v.SENDER_WEB3SIGNER_TLS_CERT_FILE, 'SENDER_WEB3SIGNER_TLS_CERT_FILE'),
      key: file(v.SENDER_WEB3SIGNER_TLS_KEY_FILE, 'SENDER_WEB3SIGNER_TLS_KEY_FILE'),
      bearerToken:
        tokenFile === undefined
          ? undefined
          : readSecretFile(tokenFile, 'SENDER_WEB3SIGNER_BEARER_TOKEN_FILE', problems),
    };
    return problems.length === before ? options : undefined;
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
            `SENDER_API_TOKENS_FILE ${path}: client "${client.name}" names sender ${sender}, which no keystore or Web3Signer account holds`,
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

/** 127.0.0.0/8, ::1 and localhost; `0.0.0.0` and `::` listen on every interface, so they are not. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
