import {
  Contract,
  Interface,
  type AddressLike,
  type BaseContract,
  type BaseContractMethod,
  type BigNumberish,
  type BytesLike,
  type ContractRunner,
  type ContractTransactionResponse,
} from 'ethers';
import type { SenderInfo } from '#app/ticket';
import { loadArtifact, type ArtifactName } from './artifacts.js';

// Typed views over the compiled ABIs. ethers returns structs as `Result` arrays that also allow
// access by field name; the result types below describe both.

type View<A extends unknown[], R> = BaseContractMethod<A, R, R>;
type Send<A extends unknown[]> = BaseContractMethod<A, void, ContractTransactionResponse>;
type Struct<T extends Record<string, unknown>, Tuple extends unknown[]> = Tuple & T;

/** TicketBroker's ticket tuple `(address,address,uint256,uint256,uint256,bytes32,bytes)`, by field name. */
export interface TicketInput {
  recipient: AddressLike;
  sender: AddressLike;
  faceValue: BigNumberish;
  winProb: BigNumberish;
  senderNonce: BigNumberish;
  recipientRandHash: BytesLike;
  /** creationRound (uint256) ‖ creationRoundBlockHash: exactly 64 bytes to be redeemable. */
  auxData: BytesLike;
}

export type SenderResult = Struct<{ deposit: bigint; withdrawRound: bigint }, [bigint, bigint]>;
export type ReserveInfoResult = Struct<
  { fundsRemaining: bigint; claimedInCurrentRound: bigint },
  [bigint, bigint]
>;
export type SenderInfoResult = Struct<
  { sender: SenderResult; reserve: ReserveInfoResult },
  [SenderResult, ReserveInfoResult]
>;

/** A getSenderInfo answer as the ticket library's SenderInfo (plain fields, no ethers Result). */
export function senderInfoOf(r: SenderInfoResult): SenderInfo {
  return {
    deposit: r.sender.deposit,
    withdrawRound: r.sender.withdrawRound,
    reserve: {
      fundsRemaining: r.reserve.fundsRemaining,
      claimedInCurrentRound: r.reserve.claimedInCurrentRound,
    },
  };
}

export interface TicketBrokerContract extends BaseContract {
  fundDeposit: Send<[]>;
  fundReserve: Send<[]>;
  fundDepositAndReserve: Send<[depositAmount: BigNumberish, reserveAmount: BigNumberish]>;
  fundDepositAndReserveFor: Send<
    [addr: AddressLike, depositAmount: BigNumberish, reserveAmount: BigNumberish]
  >;
  redeemWinningTicket: Send<[ticket: TicketInput, sig: BytesLike, recipientRand: BigNumberish]>;
  batchRedeemWinningTickets: Send<
    [tickets: TicketInput[], sigs: BytesLike[], recipientRands: BigNumberish[]]
  >;
  unlock: Send<[]>;
  cancelUnlock: Send<[]>;
  withdraw: Send<[]>;
  getSenderInfo: View<[sender: AddressLike], SenderInfoResult>;
  getReserveInfo: View<[reserveHolder: AddressLike], ReserveInfoResult>;
  claimableReserve: View<[reserveHolder: AddressLike, claimant: AddressLike], bigint>;
  claimedReserve: View<[reserveHolder: AddressLike, claimant: AddressLike], bigint>;
  isUnlockInProgress: View<[sender: AddressLike], boolean>;
  getTicketHash: View<[ticket: TicketInput], string>;
  usedTickets: View<[ticketHash: BytesLike], boolean>;
  unlockPeriod: View<[], bigint>;
  ticketValidityPeriod: View<[], bigint>;
  setUnlockPeriod: Send<[unlockPeriod: BigNumberish]>;
  setTicketValidityPeriod: Send<[ticketValidityPeriod: BigNumberish]>;
  controller: View<[], string>;
  targetContractId: View<[], string>;
  setController: Send<[controller: AddressLike]>;
}

export interface ControllerContract extends BaseContract {
  owner: View<[], string>;
  paused: View<[], boolean>;
  pause: Send<[]>;
  unpause: Send<[]>;
  transferOwnership: Send<[newOwner: AddressLike]>;
  setContractInfo: Send<[id: BytesLike, contractAddress: AddressLike, gitCommitHash: BytesLike]>;
  updateController: Send<[id: BytesLike, controller: AddressLike]>;
  /** Zero address when nothing is registered under `id`. */
  getContract: View<[id: BytesLike], string>;
  getContractInfo: View<[id: BytesLike], [string, string]>;
}

export interface RoundsManagerContract extends BaseContract {
  roundLength: View<[], bigint>;
  lastInitializedRound: View<[], bigint>;
  lastRoundLengthUpdateRound: View<[], bigint>;
  lastRoundLengthUpdateStartBlock: View<[], bigint>;
  currentRound: View<[], bigint>;
  currentRoundStartBlock: View<[], bigint>;
  currentRoundInitialized: View<[], boolean>;
  blockNum: View<[], bigint>;
  /** Zero for rounds never initialized. */
  blockHashForRound: View<[round: BigNumberish], string>;
  initializeRound: Send<[]>;
  setRoundLength: Send<[roundLength: BigNumberish]>;
}

export interface BondingManagerContract extends BaseContract {
  register: Send<[transcoder: AddressLike]>;
  setActive: Send<[transcoder: AddressLike, active: boolean]>;
  isRegisteredTranscoder: View<[transcoder: AddressLike], boolean>;
  isActiveTranscoder: View<[transcoder: AddressLike], boolean>;
  getTranscoderPoolSize: View<[], bigint>;
  /** Zero address when the pool is empty. */
  getFirstTranscoderInPool: View<[], string>;
  /** Zero address after the last transcoder and for one not in the pool. */
  getNextTranscoderInPool: View<[transcoder: AddressLike], string>;
  updateTranscoderWithFees: Send<[transcoder: AddressLike, fees: BigNumberish, round: BigNumberish]>;
  withdrawFees: Send<[recipient: AddressLike, amount: BigNumberish]>;
  pendingFees: View<[delegator: AddressLike, endRound: BigNumberish], bigint>;
}

export interface ServiceRegistryContract extends BaseContract {
  /** Sets the caller's own URI. */
  setServiceURI: Send<[serviceURI: string]>;
  /** Empty string when `addr` never set one. */
  getServiceURI: View<[addr: AddressLike], string>;
}

export interface MinterContract extends BaseContract {
  depositETH: Send<[]>;
  trustedWithdrawETH: Send<[to: AddressLike, amount: BigNumberish]>;
}

/**
 * Parsed ABIs by artifact. Services bind a contract per chain read (several per block): parsing
 * the JSON ABI into fragments each time was a visible share of their CPU. An Interface is
 * immutable, so one per ABI is shared by every contract bound to it.
 */
const interfaces = new WeakMap<object, Interface>();

function bind<T>(
  name: ArtifactName,
  address: string,
  runner?: ContractRunner | null,
  artifactsDir?: string,
): T {
  const { abi } = loadArtifact(name, artifactsDir);
  let iface = interfaces.get(abi);
  if (!iface) {
    iface = new Interface(abi);
    interfaces.set(abi, iface);
  }
  return new Contract(address, iface, runner) as unknown as T;
}

export const ticketBrokerAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<TicketBrokerContract>('TicketBroker', address, runner, artifactsDir);

export const controllerAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<ControllerContract>('Controller', address, runner, artifactsDir);

export const roundsManagerAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<RoundsManagerContract>('RoundsManager', address, runner, artifactsDir);

export const bondingManagerAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<BondingManagerContract>('BondingManager', address, runner, artifactsDir);

export const minterAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<MinterContract>('Minter', address, runner, artifactsDir);

export const serviceRegistryAt = (address: string, runner?: ContractRunner | null, artifactsDir?: string) =>
  bind<ServiceRegistryContract>('ServiceRegistry', address, runner, artifactsDir);
