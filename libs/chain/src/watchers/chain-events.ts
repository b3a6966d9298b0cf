import { Interface, type EventFragment, type Log } from 'ethers';
import { loadArtifact, type ArtifactName } from '../artifacts.js';

interface EventBase {
  block: bigint;
  logIndex: number;
  txHash: string;
}

/** TicketBroker events that move a sender's deposit, reserve, claims or unlock (TICKETBROKER.md §3.2). */
export type BrokerEvent = EventBase &
  (
    | { kind: 'DepositFunded'; sender: string; amount: bigint }
    | { kind: 'ReserveFunded'; sender: string; amount: bigint }
    | { kind: 'ReserveClaimed'; sender: string; claimant: string; amount: bigint }
    | { kind: 'WinningTicketTransfer'; sender: string; recipient: string; amount: bigint }
    | { kind: 'Unlock'; sender: string; startRound: bigint; endRound: bigint }
    | { kind: 'UnlockCancelled'; sender: string }
    | { kind: 'Withdrawal'; sender: string; deposit: bigint; reserve: bigint }
  );

/** RoundsManager `NewRound(round, blockHash)`. */
export type NewRoundEvent = EventBase & { kind: 'NewRound'; round: bigint; blockHash: string };

/**
 * RoundsManager `ParameterUpdate("roundLength")`: the length changed from the start of the current
 * round, so the round's end (and maybe its number) moved; the event carries no value, re-read it.
 */
export type RoundLengthUpdateEvent = EventBase & { kind: 'RoundLengthUpdate' };

/** Every event the watchers act on, in chain order. Addresses are lowercase 0x-hex. */
export type ChainEvent = BrokerEvent | NewRoundEvent | RoundLengthUpdateEvent;

export type ChainEventKind = ChainEvent['kind'];

const BROKER_EVENTS = [
  'DepositFunded',
  'ReserveFunded',
  'ReserveClaimed',
  'WinningTicketTransfer',
  'Unlock',
  'UnlockCancelled',
  'Withdrawal',
] as const;

/** Every kind a decoded event can have, broker events first (the watcher counts each). */
export const CHAIN_EVENT_KINDS: readonly ChainEventKind[] = [
  ...BROKER_EVENTS,
  'NewRound',
  'RoundLengthUpdate',
];

/** A contract's ABI and its watched events by topic0 (hashed once, not per log as `parseLog` does). */
interface WatchedAbi {
  iface: Interface;
  byTopic: Map<string, EventFragment>;
}

let interfaces: { broker: WatchedAbi; rounds: WatchedAbi } | undefined;

function watched(artifact: ArtifactName, names: readonly string[]): WatchedAbi {
  const iface = new Interface(loadArtifact(artifact).abi);
  const byTopic = new Map(names.map((name) => [iface.getEvent(name)!.topicHash, iface.getEvent(name)!]));
  return { iface, byTopic };
}

function abis(): { broker: WatchedAbi; rounds: WatchedAbi } {
  interfaces ??= {
    broker: watched('TicketBroker', BROKER_EVENTS),
    rounds: watched('RoundsManager', ['NewRound', 'ParameterUpdate']),
  };
  return interfaces;
}

/**
 * topic0 of every watched event: one `eth_getLogs` filter (OR of topics) covers both contracts
 * (so the TicketBroker's own rare ParameterUpdate logs come too, and decode to nothing).
 */
export function watchedTopics(): string[] {
  const { broker, rounds } = abis();
  return [...new Set([...broker.byTopic.keys(), ...rounds.byTopic.keys()])];
}

/** The ABI decoder already checked and checksummed the address. */
const lower = (address: unknown): string => String(address).toLowerCase();

/**
 * Decodes one log of the TicketBroker or RoundsManager; anything else (another contract, an
 * event we do not act on, a log that does not decode) gives undefined.
 */
export function decodeChainLog(
  log: Pick<Log, 'address' | 'topics' | 'data' | 'blockNumber' | 'index' | 'transactionHash'>,
  addresses: { ticketBroker: string; roundsManager: string },
): ChainEvent | undefined {
  const base: EventBase = {
    block: BigInt(log.blockNumber),
    logIndex: log.index,
    txHash: log.transactionHash,
  };
  const from = log.address.toLowerCase();
  const { broker, rounds } = abis();
  if (from === addresses.roundsManager.toLowerCase()) {
    const parsed = safeParse(rounds, log);
    if (parsed?.name === 'ParameterUpdate') {
      return parsed.args[0] === 'roundLength' ? { ...base, kind: 'RoundLengthUpdate' } : undefined;
    }
    if (parsed?.name !== 'NewRound') return undefined;
    return { ...base, kind: 'NewRound', round: parsed.args[0] as bigint, blockHash: String(parsed.args[1]) };
  }
  if (from !== addresses.ticketBroker.toLowerCase()) return undefined;
  const parsed = safeParse(broker, log);
  if (!parsed) return undefined;
  const a = parsed.args;
  switch (parsed.name) {
    case 'DepositFunded':
      return { ...base, kind: 'DepositFunded', sender: lower(a[0]), amount: a[1] as bigint };
    case 'ReserveFunded':
      return { ...base, kind: 'ReserveFunded', sender: lower(a[0]), amount: a[1] as bigint };
    case 'ReserveClaimed':
      return {
        ...base,
        kind: 'ReserveClaimed',
        sender: lower(a[0]),
        claimant: lower(a[1]),
        amount: a[2] as bigint,
      };
    case 'WinningTicketTransfer':
      return {
        ...base,
        kind: 'WinningTicketTransfer',
        sender: lower(a[0]),
        recipient: lower(a[1]),
        amount: a[2] as bigint,
      };
    case 'Unlock':
      return {
        ...base,
        kind: 'Unlock',
        sender: lower(a[0]),
        startRound: a[1] as bigint,
        endRound: a[2] as bigint,
      };
    case 'UnlockCancelled':
      return { ...base, kind: 'UnlockCancelled', sender: lower(a[0]) };
    case 'Withdrawal':
      return {
        ...base,
        kind: 'Withdrawal',
        sender: lower(a[0]),
        deposit: a[1] as bigint,
        reserve: a[2] as bigint,
      };
    default:
      return undefined;
  }
}

function safeParse(abi: WatchedAbi, log: { topics: readonly string[]; data: string }) {
  const fragment = abi.byTopic.get(log.topics[0]?.toLowerCase() ?? '');
  if (!fragment) return null;
  try {
    return { name: fragment.name, args: abi.iface.decodeEventLog(fragment, log.data, log.topics) };
  } catch {
    return null;
  }
}

/** Chain order: block, then position in the block. */
export function compareEvents(a: EventBase, b: EventBase): number {
  return a.block === b.block ? a.logIndex - b.logIndex : a.block < b.block ? -1 : 1;
}
