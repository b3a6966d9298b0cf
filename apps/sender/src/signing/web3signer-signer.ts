import {
  AccountSigner,
  hexToBytes,
  personalDigest,
  selectCryptoBackend,
  SignatureFault,
  signatureFault,
  type Address,
  type Bytes32,
  type CryptoBackend,
} from '#app/ticket';
import { SenderError, SenderErrorCode } from '../sender.error.js';
import type { Web3SignerClient } from './web3signer-client.js';

/**
 * One account whose key Web3Signer holds. Every signature it returns is checked here before use
 * (format as go-livepeer's verifier wants it, and recovered to this account): a signer that
 * answers with another key or a malleable signature gets a coded error, never a ticket the
 * recipient would refuse.
 */
export class Web3SignerAccountSigner extends AccountSigner {
  readonly address: Address;
  readonly source: string;

  constructor(
    private readonly client: Web3SignerClient,
    readonly addressHex: string,
    private readonly backend: CryptoBackend = selectCryptoBackend(),
  ) {
    super();
    this.address = hexToBytes(addressHex, 'address', 20);
    this.source = `web3signer ${client.endpoint}`;
  }

  async signPersonal(hash32: Bytes32): Promise<Uint8Array> {
    const digest = personalDigest(hash32);
    const sig = await this.client.ethSign(this.addressHex, hash32);
    const fault = signatureFault(this.address, digest, sig, this.backend);
    if (fault === SignatureFault.WRONG_SIGNER) {
      throw new SenderError(
        SenderErrorCode.SIGNER_WRONG_ACCOUNT,
        `${this.client.endpoint} signed for ${this.addressHex} with another key`,
      );
    }
    if (fault !== null) {
      throw new SenderError(
        SenderErrorCode.SIGNER_BAD_RESPONSE,
        `${this.client.endpoint} returned an unusable signature for ${this.addressHex} (${fault})`,
      );
    }
    return sig;
  }
}
