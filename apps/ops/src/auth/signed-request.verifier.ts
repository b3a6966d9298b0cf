import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ChainClient } from '#app/chain';
import { InjectRedis } from '#app/common';
import { OpsConfig } from '../ops.config.js';
import { OpsError, OpsErrorCode } from '../ops.error.js';
import { blockFreshness, recoverRequestSigner, type SignableRequest } from './request-signature.js';

/** How long a used signature is remembered; far longer than the few blocks it is valid for. */
const REPLAY_WINDOW_SECONDS = 3_600;

/**
 * Checks a signed ops request (snet-daemon style): the signature must recover to
 * OPS_RECIPIENT_ADDRESS and name a block no more than OPS_SIGNATURE_MAX_AGE_BLOCKS behind the
 * head, nor ahead of it; each signature is accepted once.
 */
@Injectable()
export class SignedRequestVerifier {
  constructor(
    private readonly config: OpsConfig,
    private readonly chain: ChainClient,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  async verify(req: Omit<SignableRequest, 'block'>, rawBlock: string, signature: string): Promise<string> {
    const recipient = this.config.values.OPS_RECIPIENT_ADDRESS;
    if (!recipient) {
      throw new OpsError(
        OpsErrorCode.UNAUTHORIZED,
        'signed requests are not enabled (OPS_RECIPIENT_ADDRESS)',
      );
    }
    if (!/^\d{1,20}$/.test(rawBlock)) {
      throw new OpsError(OpsErrorCode.BAD_SIGNATURE, 'the block number must be a decimal integer');
    }
    const block = BigInt(rawBlock);
    let signer: string;
    try {
      signer = recoverRequestSigner({ ...req, block }, signature);
    } catch (err) {
      throw new OpsError(OpsErrorCode.BAD_SIGNATURE, `unreadable signature: ${(err as Error).message}`);
    }
    if (signer !== recipient) {
      throw new OpsError(
        OpsErrorCode.BAD_SIGNATURE,
        'the signature is not by the configured recipient (check method, path, body and block)',
      );
    }
    const head = await this.head();
    const maxAge = this.config.values.OPS_SIGNATURE_MAX_AGE_BLOCKS;
    switch (blockFreshness(block, head, maxAge)) {
      case 'stale':
        throw new OpsError(
          OpsErrorCode.STALE_BLOCK,
          `signed block ${block} is ${head - block} blocks behind the head ${head} (at most ${maxAge} allowed); sign again with a recent block`,
        );
      case 'ahead':
        throw new OpsError(OpsErrorCode.BLOCK_AHEAD, `signed block ${block} is ahead of the head ${head}`);
      case 'fresh':
        break;
    }
    const key = `ops:signature:${createHash('sha256').update(signature.toLowerCase()).digest('hex')}`;
    if ((await this.redis.set(key, '1', 'EX', REPLAY_WINDOW_SECONDS, 'NX')) !== 'OK') {
      throw new OpsError(
        OpsErrorCode.SIGNATURE_REPLAYED,
        'this signed request was used already; sign a new one',
      );
    }
    return signer;
  }

  private async head(): Promise<bigint> {
    try {
      // A raw eth_blockNumber: ethers answers getBlockNumber/getBlock from a short-lived cache,
      // which would refuse a request signed over the block just mined as BLOCK_AHEAD.
      const provider = this.chain.provider as typeof this.chain.provider & {
        send?: (method: string, params: unknown[]) => Promise<unknown>;
      };
      if (typeof provider.send === 'function')
        return BigInt(String(await provider.send('eth_blockNumber', [])));
      return BigInt(await provider.getBlockNumber());
    } catch (err) {
      throw new OpsError(
        OpsErrorCode.CHAIN_UNAVAILABLE,
        'the chain head cannot be read to check the signed block',
        {
          cause: err,
        },
      );
    }
  }
}
