import { NonceLedger, type NonceOutcome } from '#app/ticket';

/**
 * A NonceLedger that runs `gate` before recording anything. `receiveTicketBatch` calls the ledger
 * once per batch, after the recipient, sender, recipientRand commitment and signature checks and
 * before any state changes: exactly where the remaining checks of our validation order belong
 * (params expiry, price, sender). A gate that throws fails the whole batch with nothing recorded.
 * A batch whose every signature failed records nothing and skips the gate, so each ticket keeps
 * its own INVALID_SIGNATURE.
 */
export class GatedNonceLedger extends NonceLedger {
  constructor(
    private readonly inner: NonceLedger,
    private readonly gate: () => Promise<void>,
  ) {
    super();
  }

  async record(
    key: string,
    expirationBlock: bigint,
    nonces: readonly number[],
  ): Promise<readonly NonceOutcome[]> {
    if (nonces.length === 0) return [];
    await this.gate();
    return this.inner.record(key, expirationBlock, nonces);
  }

  expire(lastSeenL1Block: bigint): number | Promise<number> {
    return this.inner.expire(lastSeenL1Block);
  }
}
