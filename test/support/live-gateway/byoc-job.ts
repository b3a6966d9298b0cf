import { hexToBytes, keccak256, nobleBackend, personalDigest, signatureFault } from '#app/ticket';
import { RemoteSignerHttpError } from './live-gateway.js';

/*
 * The BYOC side of a keyless gateway: job credentials from a remote signer's `/sign-byoc-job`,
 * checked the way a BYOC orchestrator checks `JobRequest.sender`/`sig`. Written from the wire
 * definition (docs/remote-signer.md §2a) with Node's Buffer only; it shares no code with the
 * Sender's flattening.
 */

/** A BYOC job as the Python SDK's `sign_byoc_job` sends it. */
export interface ByocJob {
  id: string;
  capability: string;
  request: string;
  parameters: string;
  timeoutSeconds: number;
}

export interface ByocJobCredentials {
  /** The signer's address as printed (EIP-55); the job request carries it verbatim. */
  sender: string;
  signature: Uint8Array;
}

/** The V1 bytes: domain separator, four u32be-length-prefixed UTF-8 fields, u32be timeout. */
export function byocJobV1Bytes(job: ByocJob): Uint8Array {
  const field = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const timeout = Buffer.alloc(4);
  timeout.writeUInt32BE(job.timeoutSeconds);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from('LP_BYOC_JOB_V1\0\0', 'latin1'),
      field(job.id),
      field(job.capability),
      field(job.request),
      field(job.parameters),
      timeout,
    ]),
  );
}

/** `POST /sign-byoc-job`, its answer checked as a BYOC orchestrator would (throws otherwise). */
export function signByocJob(
  signerUrl: string,
  job: ByocJob,
  headers: Record<string, string> = {},
): Promise<ByocJobCredentials> {
  const body = {
    id: job.id,
    capability: job.capability,
    request: job.request,
    parameters: job.parameters,
    timeout_seconds: job.timeoutSeconds,
    signature_format: 'v1',
  };
  return postSignByocJob(signerUrl, body, headers, byocJobV1Bytes(job));
}

/**
 * The legacy job credentials the Python SDK's `sign_byoc_job` asks for: it posts only
 * `{request, parameters}`, and the orchestrator checks the signature over the UTF-8 bytes of
 * `request + parameters` (go-livepeer `gatewayJob.sign()`). Checked here as it would (throws
 * otherwise).
 */
export function signByocJobLegacy(
  signerUrl: string,
  job: { request: string; parameters: string },
  headers: Record<string, string> = {},
): Promise<ByocJobCredentials> {
  const signed = new Uint8Array(Buffer.from(job.request + job.parameters, 'utf8'));
  return postSignByocJob(signerUrl, { request: job.request, parameters: job.parameters }, headers, signed);
}

/** Posts `body`; the answer must be an address and its personal-sign signature over `signed`. */
async function postSignByocJob(
  signerUrl: string,
  body: Record<string, unknown>,
  headers: Record<string, string>,
  signed: Uint8Array,
): Promise<ByocJobCredentials> {
  const res = await fetch(new URL('/sign-byoc-job', signerUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new RemoteSignerHttpError(res.status, text);
  const answer = JSON.parse(text) as { sender?: unknown; signature?: unknown };
  if (typeof answer.sender !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(answer.sender)) {
    throw new Error(`sign-byoc-job: bad sender ${String(answer.sender)}`);
  }
  if (typeof answer.signature !== 'string' || !/^0x[0-9a-f]{130}$/.test(answer.signature)) {
    throw new Error('sign-byoc-job: signature is not 0x + 65 lowercase hex bytes');
  }
  const signature = hexToBytes(answer.signature, 'signature', 65);
  const sender = hexToBytes(answer.sender.toLowerCase(), 'sender', 20);
  const fault = signatureFault(sender, personalDigest(keccak256(signed)), signature, nobleBackend);
  if (fault !== null) throw new Error(`sign-byoc-job: signature refused (${fault})`);
  return { sender: answer.sender, signature };
}
