import { randomBytes } from 'node:crypto';
import { Wallet, hexlify, parseEther, toQuantity, type JsonRpcProvider } from 'ethers';
import {
  bondingManagerAt,
  roundsManagerAt,
  ticketBrokerAt,
  type BondingManagerContract,
  type RoundsManagerContract,
  type TicketBrokerContract,
} from '#app/chain';
import {
  MAX_WIN_PROB,
  Rational,
  bytesToHex,
  computeRecipientRand,
  createTicketBatch,
  hexToBytes,
  recipientRandHash,
  ticketHash,
  type SignedTicket,
  type TicketParams,
} from '#app/ticket';
import {
  ANVIL_PRIVATE_KEYS,
  startAnvil,
  type AnvilInstance,
  type StartAnvilOptions,
  advanceToNextRound,
  deployProtocol,
  type DeployedProtocol,
} from '#app/testing';

/**
 * A dev chain for Redeemer tests: the protocol deployed with one fresh, registered and active
 * recipient (whose key the Redeemer signs with, so it can also withdraw the fees), plus helpers
 * that make real signed winning tickets the way a Recipient would (HMAC recipientRand, winProb MAX).
 * Fresh addresses keep tests of parallel suites on the shared database apart.
 */
export interface RedeemerChainFixture {
  anvil: AnvilInstance;
  provider: JsonRpcProvider;
  owner: Wallet;
  recipient: Wallet;
  /** Further registered recipients (ChainFixtureOptions.otherRecipients), for tickets' `recipient`. */
  otherRecipients: Wallet[];
  protocol: DeployedProtocol;
  broker: TicketBrokerContract;
  bonding: BondingManagerContract;
  rounds: RoundsManagerContract;
  /** A new account holding ETH, with `deposit` (and `reserve`) funded when given. */
  newSender(deposit?: bigint, reserve?: bigint): Promise<Wallet>;
  fundDeposit(sender: Wallet, amount: bigint): Promise<void>;
  /** A winning ticket of `sender` for the recipient, in the current round unless told otherwise. */
  ticket(sender: Wallet, faceValue: bigint, options?: TicketOptions): Promise<SignedTicket>;
  mine(blocks: number): Promise<void>;
  blockNumber(): Promise<bigint>;
  nextRound(): Promise<bigint>;
  /** Fees the BondingManager holds for the recipient. */
  fees(): Promise<bigint>;
  /** Every WinningTicketRedeemed of the broker, as ticket hashes (lowercase). */
  redeemedHashes(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface TicketOptions {
  /** L1 block the params expire at; default: the current block (already expired for the Redeemer). */
  expirationBlock?: bigint;
  creationRound?: bigint;
  /** Whom the ticket pays; default: the fixture's recipient. */
  recipient?: Wallet;
}

export interface ChainFixtureOptions {
  /** How many more recipients to register next to `recipient` (default 0). */
  otherRecipients?: number;
}

const SECRET = randomBytes(32);
let nonceCounter = 0;

export async function startRedeemerChain(
  options: StartAnvilOptions = {},
  { otherRecipients: others = 0 }: ChainFixtureOptions = {},
): Promise<RedeemerChainFixture> {
  const anvil = await startAnvil(options);
  const { provider } = anvil;
  const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], provider);
  const [recipient, ...otherRecipients] = Array.from(
    { length: 1 + others },
    () => new Wallet(hexlify(randomBytes(32)), provider),
  );
  for (const r of [recipient, ...otherRecipients]) {
    await provider.send('anvil_setBalance', [r.address, toQuantity(parseEther('100'))]);
  }
  const protocol = await deployProtocol(owner, {
    roundLength: 40n,
    recipients: [recipient, ...otherRecipients].map((r) => r.address),
  });
  const { addresses } = protocol;
  const broker = ticketBrokerAt(addresses.ticketBroker, owner);
  const bonding = bondingManagerAt(addresses.bondingManager, provider);
  const rounds = roundsManagerAt(addresses.roundsManager, provider);

  const fundDeposit = async (sender: Wallet, amount: bigint) => {
    await (await ticketBrokerAt(addresses.ticketBroker, sender).fundDeposit({ value: amount })).wait();
  };

  return {
    anvil,
    provider,
    owner,
    recipient,
    otherRecipients,
    protocol,
    broker,
    bonding,
    rounds,
    fundDeposit,
    newSender: async (deposit = 0n, reserve = 0n) => {
      const wallet = new Wallet(hexlify(randomBytes(32)), provider);
      await provider.send('anvil_setBalance', [wallet.address, toQuantity(parseEther('1000'))]);
      if (deposit > 0n || reserve > 0n) {
        const b = ticketBrokerAt(addresses.ticketBroker, wallet);
        await (await b.fundDepositAndReserve(deposit, reserve, { value: deposit + reserve })).wait();
      }
      return wallet;
    },
    ticket: async (sender, faceValue, opts = {}) => {
      const blockTag = Number(await provider.send('eth_blockNumber', []));
      const creationRound = opts.creationRound ?? (await rounds.currentRound({ blockTag }));
      const blockHash = await rounds.blockHashForRound(creationRound, { blockTag });
      const expirationParams = { creationRound, creationRoundBlockHash: hexToBytes(blockHash, 'hash', 32) };
      const recipientAddr = hexToBytes((opts.recipient ?? recipient).address.toLowerCase(), 'recipient', 20);
      const senderAddr = hexToBytes(sender.address.toLowerCase(), 'sender', 20);
      const expirationBlock = opts.expirationBlock ?? BigInt(blockTag);
      const price = Rational.of(1n);
      const seed = BigInt(hexlify(randomBytes(32)));
      const recipientRand = computeRecipientRand(SECRET, {
        seed,
        sender: senderAddr,
        faceValue,
        winProb: MAX_WIN_PROB,
        expirationBlock,
        pricePerPixel: price,
        ...expirationParams,
      });
      const params: TicketParams = {
        recipient: recipientAddr,
        faceValue,
        winProb: MAX_WIN_PROB,
        recipientRandHash: recipientRandHash(recipientRand),
        seed,
        expirationBlock,
        expirationParams,
      };
      const senderNonce = ++nonceCounter;
      const batch = createTicketBatch({
        params,
        expirationParams,
        pricePerPixel: price,
        nonces: [senderNonce],
        privateKey: hexToBytes(sender.privateKey, 'key', 32),
      });
      return {
        recipient: recipientAddr,
        sender: batch.sender,
        faceValue,
        winProb: MAX_WIN_PROB,
        senderNonce,
        recipientRandHash: params.recipientRandHash,
        ...expirationParams,
        paramsExpirationBlock: expirationBlock,
        sig: batch.senderParams[0].sig,
        recipientRand,
      };
    },
    mine: async (blocks) => {
      await provider.send('anvil_mine', [toQuantity(blocks)]);
    },
    blockNumber: async () => BigInt((await provider.send('eth_blockNumber', [])) as string),
    nextRound: () => advanceToNextRound(owner, addresses.roundsManager),
    fees: async () =>
      bonding.pendingFees(recipient.address, 0, {
        blockTag: Number((await provider.send('eth_blockNumber', [])) as string),
      }),
    redeemedHashes: async () => {
      const logs = await broker.queryFilter(broker.filters.WinningTicketRedeemed(), 0, 'latest');
      return logs.map((log) => {
        const a = broker.interface.parseLog(log)!.args;
        return bytesToHex(
          ticketHash({
            recipient: hexToBytes((a.recipient as string).toLowerCase(), 'r', 20),
            sender: hexToBytes((a.sender as string).toLowerCase(), 's', 20),
            faceValue: a.faceValue as bigint,
            winProb: a.winProb as bigint,
            senderNonce: Number(a.senderNonce as bigint),
            recipientRandHash: recipientRandHash(a.recipientRand as bigint),
            creationRound: BigInt(`0x${(a.auxData as string).slice(2, 66)}`),
            creationRoundBlockHash: hexToBytes(`0x${(a.auxData as string).slice(66)}`, 'h', 32),
          }),
        );
      });
    },
    stop: () => anvil.stop(),
  };
}

/** The ticket's hash as stored in `winning_ticket`. */
export const hashOf = (t: SignedTicket): string => bytesToHex(ticketHash(t));

/** Redeems a ticket directly on chain (as a third party would), bypassing the Redeemer; the tx's hash. */
export async function redeemDirectly(fx: RedeemerChainFixture, t: SignedTicket): Promise<string> {
  const tuple = {
    recipient: bytesToHex(t.recipient),
    sender: bytesToHex(t.sender),
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    recipientRandHash: bytesToHex(t.recipientRandHash),
    auxData: `0x${t.creationRound.toString(16).padStart(64, '0')}${bytesToHex(t.creationRoundBlockHash).slice(2)}`,
  };
  const sent = await fx.broker.redeemWinningTicket(tuple, bytesToHex(t.sig), t.recipientRand);
  await sent.wait();
  return sent.hash;
}

/**
 * What every test Redeemer of `fx` shares: it redeems for fx's recipient with that key, after one
 * confirmation (anvil mines only on transactions) and no expiry margin, polling often.
 */
export function redeemerTestEnv(fx: RedeemerChainFixture): Record<string, string> {
  return {
    CONTROLLER_ADDRESS: fx.protocol.controller,
    REDEEMER_PRIVATE_KEY: fx.recipient.privateKey,
    REDEEMER_RECIPIENTS: fx.recipient.address,
    REDEEMER_CONFIRMATIONS: '1',
    REDEEMER_PARAMS_EXPIRY_MARGIN_BLOCKS: '0',
    // anvil mines only on transactions: a tx is mined in the very next block, so only a head in
    // the round's last block is held (a larger margin would wait for blocks nobody mines).
    REDEEMER_ROUND_END_MARGIN_BLOCKS: '1',
    REDEEMER_POLL_MS: '250',
    REDEEMER_TX_POLL_MS: '100',
  };
}

export { flushRedisPrefix, flushRedisPrefixWhenDelayed } from '#app/testing';

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 45_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
