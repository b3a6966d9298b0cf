import { randomBytes } from 'node:crypto';
import {
  hexToBytes,
  keccak256,
  nobleBackend,
  personalDigest,
  signatureFault,
  type Rational,
} from '#app/ticket';
import type { LiveOrchestrator, ReceivedPayment } from './live-orchestrator.js';
import { encodeOrchestratorInfo, type OrchestratorInfo } from './wire.js';

/*
 * A live-video gateway that holds no Ethereum key: it gets each payment from a remote signer over
 * go-livepeer's HTTP wire (`/sign-orchestrator-info`, `/generate-live-payment`, statuses 480/481/
 * 482) and forwards it to the orchestrator, the way go-livepeer's remote payment sender and the
 * Livepeer Python gateway SDK do. Written from those wire definitions only; it shares no code
 * with the Sender's remote-signer endpoints.
 */

const STATUS_REFRESH_SESSION = 480;
const STATUS_NO_TICKETS = 482;
const ORCHESTRATOR_URL_HEADER = 'livepeer-orchestrator-url';
/** go-livepeer gives up after this many consecutive session refreshes. */
const MAX_REFRESHES = 3;

export type LiveJobType = 'live' | 'lv2v';

/** The opaque state the signer hands back; sent again verbatim on the next call. */
interface SignerState {
  State: string;
  Sig: string;
}

export class RemoteSignerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`remote signer answered HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export interface SignerIdentity {
  /** The address as the signer prints it (EIP-55). */
  address: string;
  addressHex: string;
  signature: Uint8Array;
}

/**
 * `POST /sign-orchestrator-info`: the signer's address and its signature over that address
 * string, checked here as an orchestrator checks `OrchestratorRequest.sig`.
 */
export async function fetchSignerIdentity(
  signerUrl: string,
  headers: Record<string, string> = {},
): Promise<SignerIdentity> {
  const res = await fetch(new URL('/sign-orchestrator-info', signerUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });
  const text = await res.text();
  if (res.status !== 200) throw new RemoteSignerHttpError(res.status, text);
  const body = JSON.parse(text) as { address?: unknown; signature?: unknown };
  if (typeof body.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(body.address)) {
    throw new Error(`sign-orchestrator-info: bad address ${String(body.address)}`);
  }
  if (typeof body.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(body.signature)) {
    throw new Error('sign-orchestrator-info: signature is not 65 hex bytes');
  }
  const addressHex = body.address.toLowerCase();
  const signature = hexToBytes(body.signature, 'signature', 65);
  const digest = personalDigest(keccak256(new TextEncoder().encode(body.address)));
  const fault = signatureFault(hexToBytes(addressHex, 'address', 20), digest, signature, nobleBackend);
  if (fault !== null) throw new Error(`sign-orchestrator-info: signature refused (${fault})`);
  return { address: body.address, addressHex, signature };
}

export interface LiveGatewayOptions {
  signerUrl: string;
  /** Extra headers for the signer (go-livepeer -remoteSignerHeaders, the SDK's signer_headers). */
  signerHeaders?: Record<string, string>;
  orchestrator: LiveOrchestrator;
  type: LiveJobType;
  manifestId?: string;
}

export type PaymentOutcome =
  { kind: 'paid'; received: ReceivedPayment; refreshes: number } | { kind: 'no-tickets'; refreshes: number };

/** One live stream's payments: call `pay()` every few seconds, as a live gateway does. */
export class LiveGatewaySession {
  readonly manifestId: string;
  private state: SignerState | undefined;
  private info!: OrchestratorInfo;
  private identity!: SignerIdentity;
  /** Session refreshes (HTTP 480) over the whole stream. */
  refreshes = 0;

  private constructor(private readonly options: LiveGatewayOptions) {
    this.manifestId = options.manifestId ?? randomBytes(6).toString('hex');
  }

  /** Gets the signer's identity and the orchestrator's info for it, as a gateway starts a stream. */
  static async start(options: LiveGatewayOptions): Promise<LiveGatewaySession> {
    const session = new LiveGatewaySession(options);
    session.identity = await fetchSignerIdentity(options.signerUrl, options.signerHeaders);
    session.info = await options.orchestrator.orchestratorInfo(session.identity.addressHex);
    return session;
  }

  get senderHex(): string {
    return this.identity.addressHex;
  }

  /**
   * One payment: asks the signer (refreshing the orchestrator info on 480, up to three times in a
   * row) and forwards what it signs to the orchestrator. 482 means the balance already covers the
   * elapsed time; nothing is sent then.
   */
  async pay(): Promise<PaymentOutcome> {
    for (let refreshes = 0; ; refreshes++) {
      const res = await this.requestPayment();
      if (res.status === STATUS_REFRESH_SESSION) {
        await res.text();
        if (refreshes >= MAX_REFRESHES) throw new Error('too many consecutive session refreshes');
        const url = res.headers.get(ORCHESTRATOR_URL_HEADER);
        if (url !== this.info.transcoder) {
          throw new Error(`480 named orchestrator ${String(url)}, not ${this.info.transcoder}`);
        }
        this.info = await this.options.orchestrator.orchestratorInfo(this.identity.addressHex);
        this.refreshes++;
        continue;
      }
      const text = await res.text();
      if (res.status === STATUS_NO_TICKETS) return { kind: 'no-tickets', refreshes };
      if (res.status !== 200) throw new RemoteSignerHttpError(res.status, text);
      const body = JSON.parse(text) as { payment?: unknown; segCreds?: unknown; state?: unknown };
      if (typeof body.payment !== 'string' || body.payment === '')
        throw new Error('response without payment');
      if (typeof body.segCreds !== 'string' || body.segCreds === '')
        throw new Error('response without segCreds');
      const state = body.state as Partial<SignerState> | undefined;
      if (typeof state?.State !== 'string' || typeof state.Sig !== 'string') {
        throw new Error('response without a state object');
      }
      this.state = { State: state.State, Sig: state.Sig };
      const received = await this.options.orchestrator.receivePayment(body.payment, body.segCreds);
      return { kind: 'paid', received, refreshes };
    }
  }

  /** Work done since the last debit, charged by the orchestrator at its price. */
  debit(units: Rational): Promise<Rational> {
    return this.options.orchestrator.debit(this.identity.addressHex, this.manifestId, units);
  }

  private requestPayment(): Promise<Response> {
    const body: Record<string, unknown> = {
      orchestrator: Buffer.from(encodeOrchestratorInfo(this.info)).toString('base64'),
      type: this.options.type,
      ManifestID: this.manifestId,
    };
    if (this.state) body.state = this.state;
    return fetch(new URL('/generate-live-payment', this.options.signerUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.options.signerHeaders },
      body: JSON.stringify(body),
    });
  }
}
