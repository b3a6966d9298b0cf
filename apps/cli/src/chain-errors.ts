import { isError } from 'ethers';
import { ChainError, ContractRevert as R } from '#app/chain';
import { CliError, CliErrorCode } from './cli.error.js';

/** Turns a revert string into a clearer, state-aware message, or undefined to use the generic one. */
export type RevertExplainer = (reason: string) => Promise<string | undefined>;

/** The contracts' revert strings (TICKETBROKER.md §4.9 and the dev stand-ins), said for an operator. */
const REVERT_MESSAGES: Readonly<Record<string, string>> = {
  [R.SYSTEM_PAUSED]: 'the protocol is paused (the Controller owner must unpause it)',
  [R.NO_DEPOSIT_OR_RESERVE]: 'the sender has no deposit and no reserve',
  [R.NO_UNLOCK]: 'no unlock in progress: run `ticketpay sender unlock` first',
  [R.UNLOCK_INITIATED]: 'an unlock is already in progress',
  [R.ACCOUNT_LOCKED]: 'the funds are still locked by the unlock period',
  [R.NOT_CONTROLLER_OWNER]:
    'only the Controller owner may do this: sign with the key that deployed the protocol',
  [R.NOT_REGISTERED]: 'the recipient is not registered: run `ticketpay recipient register` first',
  [R.INSUFFICIENT_FEES]: "the amount exceeds the recipient's withdrawable fees",
  [R.INVALID_RECIPIENT]: 'the fee recipient must not be the zero address',
  [R.NOT_MINTER_OR_JOBS_MANAGER]: 'the TicketBroker is not registered as JobsManager in the Controller',
  [R.ROUND_NOT_INITIALIZED]: 'the current round is not initialized yet (a keeper must call initializeRound)',
};

const PANICS: Readonly<Record<string, string>> = {
  '17': 'arithmetic overflow/underflow (0x11)',
  '18': 'division by zero (0x12)',
  '50': 'array index out of bounds (0x32)',
};

/**
 * Classifies whatever a chain call threw into a CliError with a message fit for an operator.
 * Only ethers' short messages are used: its long ones embed the request, which may hold the RPC URL.
 */
export async function chainFailure(err: unknown, explain?: RevertExplainer): Promise<CliError> {
  if (err instanceof CliError) return err;
  if (err instanceof ChainError)
    return new CliError(CliErrorCode.CHAIN_UNAVAILABLE, err.message, { cause: err });
  if (isError(err, 'CALL_EXCEPTION')) {
    const revert = err.revert;
    if (revert?.name === 'Panic') {
      const code = String(revert.args[0]);
      return new CliError(
        CliErrorCode.TX_REVERTED,
        `the contract panicked: ${PANICS[code] ?? `code ${code}`}`,
        { cause: err },
      );
    }
    const reason = err.reason ?? (revert?.name === 'Error' ? String(revert.args[0]) : undefined);
    if (reason) {
      const explained = (await explain?.(reason).catch(() => undefined)) ?? REVERT_MESSAGES[reason];
      return new CliError(
        CliErrorCode.TX_REVERTED,
        explained ? `${explained} (contract: "${reason}")` : `the contract refused: "${reason}"`,
        { cause: err },
      );
    }
    return new CliError(
      CliErrorCode.TX_REVERTED,
      'the call reverted without a reason (is the Controller address right for this chain?)',
      { cause: err },
    );
  }
  if (isError(err, 'INSUFFICIENT_FUNDS')) {
    return new CliError(
      CliErrorCode.TX_FAILED,
      'the signing account does not hold enough ETH for the amount plus gas',
      { cause: err },
    );
  }
  if (isError(err, 'NETWORK_ERROR') || isError(err, 'SERVER_ERROR') || isError(err, 'TIMEOUT')) {
    return new CliError(CliErrorCode.CHAIN_UNAVAILABLE, `the chain RPC failed: ${err.shortMessage}`, {
      cause: err,
    });
  }
  const shortMessage = (err as { shortMessage?: unknown }).shortMessage;
  if (typeof shortMessage === 'string') {
    return new CliError(CliErrorCode.TX_FAILED, shortMessage, { cause: err });
  }
  if (err instanceof TypeError && err.message === 'fetch failed') {
    return new CliError(CliErrorCode.CHAIN_UNAVAILABLE, 'the chain RPC did not answer', { cause: err });
  }
  return new CliError(CliErrorCode.TX_FAILED, err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}

/** Awaits a chain call, turning whatever it throws into a CliError. */
export async function onChain<T>(call: Promise<T>, explain?: RevertExplainer): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw await chainFailure(err, explain);
  }
}
