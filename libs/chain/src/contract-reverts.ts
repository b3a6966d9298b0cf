/**
 * The revert reasons of Livepeer's contracts that the services act on or explain (TICKETBROKER.md
 * §4.9; the dev stand-ins in contracts/src revert with the same text): one spelling for all, so a
 * reworded reason fails a spec instead of silently changing what the Redeemer does with a ticket.
 * `…_PREFIX` reasons are matched by their start (the contracts append detail).
 */
export const ContractRevert = {
  TICKET_USED: 'ticket is used',
  TICKET_EXPIRED: 'ticket is expired',
  TICKET_DID_NOT_WIN: 'ticket did not win',
  NULL_RECIPIENT: 'ticket recipient is null address',
  NULL_SENDER: 'ticket sender is null address',
  AUX_DATA_LENGTH_PREFIX: 'invalid length for ticket auxData',
  BLOCK_HASH_MISSING: 'ticket creationRound does not have a block hash',
  BLOCK_HASH_INVALID: 'ticket creationRoundBlockHash invalid for creationRound',
  RECIPIENT_RAND_MISMATCH: 'recipientRand does not match recipientRandHash',
  SIGNATURE_LENGTH: 'INVALID_SIGNATURE_LENGTH',
  ECDSA_PREFIX: 'ECDSA:',
  INVALID_SIGNATURE: 'invalid signature over ticket hash',
  SENDER_UNLOCKED: 'sender is unlocked',
  NO_DEPOSIT_OR_RESERVE: 'sender deposit and reserve are zero',
  NO_UNLOCK: 'no unlock request in progress',
  UNLOCK_INITIATED: 'unlock already initiated',
  ACCOUNT_LOCKED: 'account is locked',
  ROUND_NOT_INITIALIZED: 'current round is not initialized',
  SYSTEM_PAUSED: 'system is paused',
  NOT_CONTROLLER_OWNER: 'caller must be Controller owner',
  NOT_REGISTERED: 'transcoder must be registered',
  INSUFFICIENT_FEES: 'insufficient fees to withdraw',
  INVALID_RECIPIENT: 'invalid recipient',
  NOT_MINTER_OR_JOBS_MANAGER: 'msg.sender not Minter or JobsManager',
} as const;

export type ContractRevertReason = (typeof ContractRevert)[keyof typeof ContractRevert];
