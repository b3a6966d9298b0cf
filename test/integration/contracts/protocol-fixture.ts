import {
  MaxUint256,
  Wallet,
  type BaseWallet,
  concat,
  getBytes,
  hexlify,
  isError,
  parseEther,
  randomBytes,
  solidityPackedKeccak256,
  toBeHex,
  toBigInt,
  toQuantity,
  zeroPadValue,
  type BaseContract,
  type ContractTransactionResponse,
  type Result,
  type TransactionReceipt,
} from 'ethers';
import {
  bondingManagerAt,
  controllerAt,
  minterAt,
  roundsManagerAt,
  ticketBrokerAt,
  type BondingManagerContract,
  type ControllerContract,
  type MinterContract,
  type RoundsManagerContract,
  type TicketBrokerContract,
} from '#app/chain';
import {
  ANVIL_PRIVATE_KEYS,
  startAnvil,
  type AnvilInstance,
  advanceToNextRound,
  deployProtocol,
  type DeployedProtocol,
} from '#app/testing';

// Shared set-up for the contract tests: a fresh anvil per test file with the dev protocol deployed,
// plus the little ticket maths the tests need (kept here so they don't depend on libs/ticket).

/**
 * Blocks per round. Tests that depend on the round start with `nextRound()`, which leaves them this
 * many blocks (one per tx) before the next boundary. Kept short because anvil mines slower as the
 * chain grows.
 */
export const TEST_ROUND_LENGTH = 40n;
export const MAX_WIN_PROB = MaxUint256;
/** The git commit the tests register contracts with (none). */
export const NO_COMMIT = `0x${'00'.repeat(20)}`;

export interface ProtocolFixture {
  anvil: AnvilInstance;
  /** Deployer and Controller owner. */
  owner: Wallet;
  protocol: DeployedProtocol;
  controller: ControllerContract;
  rounds: RoundsManagerContract;
  bonding: BondingManagerContract;
  minter: MinterContract;
  /** Connected to `owner`; use `brokerAs` for other accounts. */
  broker: TicketBrokerContract;
  /** Registered and active: the pool has size 2 unless a test changes it (and restores it). */
  recipients: [Wallet, Wallet];
  brokerAs(signer: Wallet): TicketBrokerContract;
  /** A brand-new account holding `eth` (no tx needed: anvil_setBalance). */
  newAccount(eth?: bigint): Promise<Wallet>;
  /** Mines to the next round and initializes it; returns it. */
  nextRound(): Promise<bigint>;
  /** Mines to the next round boundary without initializing the round. */
  mineToNextRoundUninitialized(): Promise<void>;
  /**
   * Runs `work` with `address` registered in the Controller as `contractId`, then registers again
   * the address it replaced, whether `work` succeeded or not.
   */
  withContract<T>(contractId: string, address: string, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startProtocol(): Promise<ProtocolFixture> {
  const anvil = await startAnvil();
  const { provider } = anvil;
  const owner = new Wallet(ANVIL_PRIVATE_KEYS[0], provider);
  const recipients: [Wallet, Wallet] = [
    new Wallet(ANVIL_PRIVATE_KEYS[8], provider),
    new Wallet(ANVIL_PRIVATE_KEYS[9], provider),
  ];
  const protocol = await deployProtocol(owner, {
    roundLength: TEST_ROUND_LENGTH,
    recipients: recipients.map((r) => r.address),
  });
  const { addresses } = protocol;
  const rounds = roundsManagerAt(addresses.roundsManager, owner);
  const controller = controllerAt(addresses.controller, owner);
  return {
    anvil,
    owner,
    protocol,
    controller,
    rounds,
    bonding: bondingManagerAt(addresses.bondingManager, owner),
    minter: minterAt(addresses.minter, owner),
    broker: ticketBrokerAt(addresses.ticketBroker, owner),
    recipients,
    brokerAs: (signer) => ticketBrokerAt(addresses.ticketBroker, signer),
    newAccount: async (eth = parseEther('100')) => {
      const wallet = new Wallet(hexlify(randomBytes(32)), provider);
      await provider.send('anvil_setBalance', [wallet.address, toQuantity(eth)]);
      return wallet;
    },
    nextRound: () => advanceToNextRound(owner, addresses.roundsManager),
    mineToNextRoundUninitialized: async () => {
      const start = await rounds.currentRoundStartBlock();
      const latest = BigInt(await provider.getBlockNumber());
      await provider.send('anvil_mine', [toQuantity(start + TEST_ROUND_LENGTH - latest)]);
    },
    withContract: async (contractId, address, work) => {
      const replaced = await controller.getContract(contractId);
      await mined(controller.setContractInfo(contractId, address, NO_COMMIT));
      try {
        return await work();
      } finally {
        await mined(controller.setContractInfo(contractId, replaced, NO_COMMIT));
      }
    },
    stop: () => anvil.stop(),
  };
}

// ------------------------------------------------------------------ tickets

export interface Ticket {
  recipient: string;
  sender: string;
  faceValue: bigint;
  winProb: bigint;
  senderNonce: bigint;
  recipientRandHash: string;
  auxData: string;
}

export interface SignedTicket {
  ticket: Ticket;
  sig: string;
  recipientRand: bigint;
  hash: string;
}

export function ticketHash(t: Ticket): string {
  return solidityPackedKeccak256(
    ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'bytes'],
    [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.auxData],
  );
}

/** creationRound (uint256) ‖ creationRoundBlockHash, the 64 bytes the broker requires. */
export function encodeAuxData(round: bigint, blockHash: string): string {
  return concat([zeroPadValue(toBeHex(round), 32), blockHash]);
}

export function recipientRandHash(rand: bigint): string {
  return solidityPackedKeccak256(['uint256'], [rand]);
}

/** EIP-191 personal signature over the 32 raw hash bytes (not its hex string). */
export function signTicket(signer: BaseWallet, ticket: Ticket): Promise<string> {
  return signer.signMessage(getBytes(ticketHash(ticket)));
}

let nonceCounter = 0n;

/**
 * A ticket that passes every check for the current round (winProb = MAX: it wins unless the draw is
 * 2^256-1), signed by `sender`. `overrides` are applied before signing.
 */
export async function makeTicket(
  fx: ProtocolFixture,
  sender: BaseWallet,
  recipient: string,
  faceValue: bigint,
  overrides: Partial<Ticket> = {},
): Promise<SignedTicket> {
  const recipientRand = toBigInt(randomBytes(32));
  const round = await fx.rounds.currentRound();
  const ticket: Ticket = {
    recipient,
    sender: sender.address,
    faceValue,
    winProb: MAX_WIN_PROB,
    senderNonce: ++nonceCounter,
    recipientRandHash: recipientRandHash(recipientRand),
    auxData: encodeAuxData(round, await fx.rounds.blockHashForRound(round)),
    ...overrides,
  };
  return { ticket, sig: await signTicket(sender, ticket), recipientRand, hash: ticketHash(ticket) };
}

export function redeem(broker: TicketBrokerContract, t: SignedTicket): Promise<ContractTransactionResponse> {
  return broker.redeemWinningTicket(t.ticket, t.sig, t.recipientRand);
}

// ------------------------------------------------------------------ txs, reverts, events

export async function mined(tx: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error('no receipt');
  return receipt;
}

export interface Revert {
  /** The Error(string) message, if that is what it reverted with. */
  reason?: string;
  /** The Panic(uint256) code, if it panicked. */
  panic?: bigint;
  data: string;
}

/** Awaits `action` (a call, or a tx, which ethers simulates first) and returns how it reverted. */
export async function revertOf(action: Promise<unknown>): Promise<Revert> {
  try {
    await action;
  } catch (err) {
    if (!isError(err, 'CALL_EXCEPTION')) throw err;
    const revert = err.revert;
    return {
      reason: revert?.name === 'Error' ? String(revert.args[0]) : undefined,
      panic: revert?.name === 'Panic' ? BigInt(revert.args[0] as bigint) : undefined,
      data: err.data ?? '0x',
    };
  }
  throw new Error('expected a revert, but it succeeded');
}

/** Names of the receipt's events, in log order, decoded with the given contracts' ABIs. */
export function eventNames(receipt: TransactionReceipt, ...contracts: BaseContract[]): string[] {
  return receipt.logs.map((log) => {
    for (const c of contracts) {
      const parsed = c.interface.parseLog(log);
      if (parsed) return parsed.name;
    }
    return `unknown(${log.topics[0]})`;
  });
}

/** Decoded arguments of every `name` event the receipt holds. */
export function eventArgs(receipt: TransactionReceipt, contract: BaseContract, name: string): Result[] {
  return receipt.logs.flatMap((log) => {
    const parsed = contract.interface.parseLog(log);
    return parsed?.name === name ? [parsed.args] : [];
  });
}
