import { Injectable } from '@nestjs/common';
import { ChainClient, ChainFacts, roundsManagerAt, type ChainHead } from '#app/chain';
import { hexToBytes, isZeroBytes, type TicketExpirationParams } from '#app/ticket';
import { RecipientError, RecipientErrorCode } from '../recipient.error.js';

/**
 * The round and block hash new tickets are created in (PROTOCOL.md §5.2 step 5): the last
 * initialized round and its hash. When that hash is zero (seen on Arbitrum) go-livepeer backdates
 * to the previous round and its hash, which stays redeemable; so does this.
 */
@Injectable()
export class ExpirationParamsSource {
  /** Hashes of past rounds never change: read once. */
  private readonly pastHashes = new Map<bigint, Uint8Array>();

  constructor(
    private readonly chain: ChainFacts,
    private readonly client: ChainClient,
  ) {}

  async forHead(head: ChainHead): Promise<TicketExpirationParams> {
    const { lastInitializedRound, lastInitializedBlockHash } = head.rounds;
    const hash = hexToBytes(lastInitializedBlockHash, 'lastInitializedBlockHash', 32);
    if (!isZeroBytes(hash) || lastInitializedRound <= 1n) {
      return { creationRound: lastInitializedRound, creationRoundBlockHash: hash };
    }
    const previous = lastInitializedRound - 1n;
    return { creationRound: previous, creationRoundBlockHash: await this.blockHashForRound(previous) };
  }

  private async blockHashForRound(round: bigint): Promise<Uint8Array> {
    const known = this.pastHashes.get(round);
    if (known) return known;
    let hex: string;
    try {
      hex = await roundsManagerAt(this.chain.addresses.roundsManager, this.client.provider).blockHashForRound(
        round,
      );
    } catch (cause) {
      throw new RecipientError(
        RecipientErrorCode.CHAIN_UNAVAILABLE,
        `could not read the block hash of round ${round}`,
        {
          cause,
        },
      );
    }
    const hash = hexToBytes(hex, 'blockHashForRound', 32);
    if (!isZeroBytes(hash)) this.pastHashes.set(round, hash);
    return hash;
  }
}
