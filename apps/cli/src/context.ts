import type { Readable, Writable } from 'node:stream';
import { getAddress, type BaseWallet, type JsonRpcProvider } from 'ethers';
import type { DataSource } from 'typeorm';
import {
  bondingManagerAt,
  discoverAddresses,
  roundsManagerAt,
  ticketBrokerAt,
  type BondingManagerContract,
  type ProtocolAddresses,
  type RoundsManagerContract,
  type TicketBrokerContract,
} from '#app/chain';
import type { RedeemerOpsEndpoint } from '#app/clients';
import { CHECKSUM_HINT, url } from '#app/common';
import { addressTextProblem } from '#app/ticket';
import type { Args } from './args.js';
import { chainFailure } from './chain-errors.js';
import { connectChain } from './chain-connection.js';
import type { CliEnv } from './cli.config.js';
import { CliError, CliErrorCode, usageError } from './cli.error.js';
import { decryptKeystore } from './keystore-files.js';
import { Progress, type ProgressStream } from './progress.js';
import type { PromptInput } from './prompt.js';
import { requireDatabaseUrl } from './local-stack.js';
import { readPassword, walletFromEnv } from './signer.js';
import type { RedemptionQueueHandle } from '#app/queue';
import { openDatabase, openRedemptionQueue } from './stores.js';

export interface CliIO {
  stdout: Writable;
  stderr: ProgressStream;
  stdin: Readable & PromptInput;
}

/** The protocol contracts, read-only unless connected to a signer. */
export interface Protocol {
  addresses: ProtocolAddresses;
  broker: TicketBrokerContract;
  rounds: RoundsManagerContract;
  bonding: BondingManagerContract;
}

/**
 * What a command runs with: settings (flags over environment) and connections opened on first
 * use and closed once the command ends, so a command that needs no chain never dials one.
 */
export class CommandContext {
  readonly progress: Progress;
  private providerP?: Promise<JsonRpcProvider>;
  private protocolP?: Promise<Protocol>;
  private signerP?: Promise<BaseWallet>;
  private databaseP?: Promise<DataSource>;
  private queueP?: Promise<RedemptionQueueHandle>;

  constructor(
    readonly env: CliEnv,
    /** The untouched environment: only for `--private-key-env NAME` and KEYSTORE_PASSWORD. */
    private readonly rawEnv: Readonly<Record<string, string | undefined>>,
    readonly io: CliIO,
    readonly args: Args,
  ) {
    this.progress = new Progress(io.stderr);
  }

  provider(): Promise<JsonRpcProvider> {
    if (!this.providerP) {
      const flag = this.args.string('rpc-url');
      if (flag !== undefined) httpUrlArg(flag, '--rpc-url');
      this.providerP = connectChain(flag ?? this.env.ETH_RPC_URL);
    }
    return this.providerP;
  }

  /** The Controller address from --controller or CONTROLLER_ADDRESS. */
  controllerAddress(): string {
    const flag = this.args.string('controller');
    if (flag !== undefined) return parseAddressArg(flag, '--controller');
    if (this.env.CONTROLLER_ADDRESS) return getAddress(this.env.CONTROLLER_ADDRESS);
    throw usageError(
      'the Controller address is needed: pass --controller <address> or set CONTROLLER_ADDRESS',
    );
  }

  /** Every contract, discovered from the Controller as the services do. */
  protocol(): Promise<Protocol> {
    return (this.protocolP ??= this.discover());
  }

  private async discover(): Promise<Protocol> {
    const controller = this.controllerAddress();
    const provider = await this.provider();
    try {
      if ((await provider.getCode(controller)) === '0x') {
        throw new CliError(
          CliErrorCode.CHAIN_UNAVAILABLE,
          `no contract at the Controller address ${controller} on this chain`,
        );
      }
      const addresses = await discoverAddresses(provider, controller);
      return {
        addresses,
        broker: ticketBrokerAt(addresses.ticketBroker, provider),
        rounds: roundsManagerAt(addresses.roundsManager, provider),
        bonding: bondingManagerAt(addresses.bondingManager, provider),
      };
    } catch (err) {
      throw await chainFailure(err);
    }
  }

  /** The signing account, connected to the chain: a keystore (with its password) or a key in the env. */
  signer(): Promise<BaseWallet> {
    return (this.signerP ??= (async () => {
      const keyEnv = this.args.string('private-key-env');
      const keystore = this.args.string('keystore') ?? (keyEnv ? undefined : this.env.KEYSTORE_FILE);
      if (keyEnv !== undefined && keystore !== undefined) {
        throw usageError('pass either --keystore or --private-key-env, not both');
      }
      let wallet: BaseWallet;
      if (keyEnv !== undefined) {
        wallet = walletFromEnv(keyEnv, this.rawEnv);
      } else if (keystore !== undefined) {
        const password = await readPassword({
          passwordFile: this.args.string('password-file'),
          env: this.rawEnv,
          stdin: this.io.stdin,
          stderr: this.io.stderr,
        });
        wallet = await decryptKeystore(keystore, password);
      } else {
        throw usageError(
          'this command signs a transaction: pass --keystore <file> (with --password-file or KEYSTORE_PASSWORD) or --private-key-env <NAME>',
        );
      }
      return wallet.connect(await this.provider());
    })());
  }

  /** Password for a keystore being created or imported. */
  newKeystorePassword(): Promise<string> {
    return readPassword(
      {
        passwordFile: this.args.string('password-file'),
        env: this.rawEnv,
        stdin: this.io.stdin,
        stderr: this.io.stderr,
      },
      true,
    );
  }

  /** The raw environment value of `--private-key-env NAME` as a wallet (keystore import). */
  walletFromEnv(name: string): BaseWallet {
    return walletFromEnv(name, this.rawEnv);
  }

  /** The Redeemer's ops endpoint when --redeemer-url or REDEEMER_URL is given (with REDEEMER_OPS_TOKEN). */
  redeemerOps(): RedeemerOpsEndpoint | undefined {
    const flag = this.args.string('redeemer-url');
    if (flag !== undefined) httpUrlArg(flag, '--redeemer-url', 'refused');
    const baseUrl = flag ?? this.env.REDEEMER_URL;
    if (baseUrl === undefined) return undefined;
    const token = this.env.REDEEMER_OPS_TOKEN;
    if (!token) {
      throw usageError("the Redeemer's ops endpoint needs its bearer token: set REDEEMER_OPS_TOKEN");
    }
    return { baseUrl, token };
  }

  database(): Promise<DataSource> {
    return (this.databaseP ??= (async () =>
      openDatabase(requireDatabaseUrl(this.env.DATABASE_URL, this.rawEnv)))());
  }

  redemptionQueue(): Promise<RedemptionQueueHandle> {
    return (this.queueP ??= this.database().then((ds) =>
      openRedemptionQueue(this.env.REDIS_URL, this.env.REDIS_PREFIX, ds),
    ));
  }

  /** Closes whatever was opened; never throws (the command's own outcome is what counts). */
  async close(): Promise<void> {
    this.progress.end();
    const settle = async <T>(p: Promise<T> | undefined, close: (v: T) => Promise<void> | void) => {
      if (!p) return;
      try {
        await close(await p);
      } catch {
        // failed to open or to close: nothing left to release
      }
    };
    await Promise.all([
      settle(this.queueP, (q) => q.close()),
      settle(this.databaseP, (ds) => ds.destroy()),
      settle(this.providerP, (p) => p.destroy()),
    ]);
  }
}

/** A 0x address argument, checksummed; anything else is a usage error naming the argument. */
export function parseAddressArg(raw: string, what: string): string {
  const problem = addressTextProblem(raw);
  if (problem === 'malformed')
    throw usageError(`${what} must be a 0x-prefixed 20-byte address, got "${raw}"`);
  if (problem === 'checksum') throw usageError(`${what} "${raw}": ${CHECKSUM_HINT}`);
  return getAddress(raw);
}

/** An http(s) URL argument; the value is not echoed (URLs may carry keys). */
function httpUrlArg(raw: string, what: string, credentials: 'allowed' | 'refused' = 'allowed'): void {
  const http = ['http', 'https'];
  try {
    url(http)(raw);
  } catch {
    throw usageError(`${what} must be an http(s) URL`);
  }
  try {
    url(http, { credentials })(raw);
  } catch (err) {
    throw usageError(`${what}: ${(err as Error).message}`);
  }
}
