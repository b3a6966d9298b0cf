import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import { makeError, type FetchCancelSignal, type FetchRequest, type GetUrlResponse } from 'ethers';

/**
 * The HTTP(S) transport of the services' FetchRequests, for ethers' `getUrlFunc`: the same
 * requests, answers and errors as ethers' own Node transport, but a response body is gathered as
 * its chunks and joined once. Ethers copies the whole body again for every chunk that arrives,
 * quadratic in the chunks: a batch of redemption receipts (hundreds of kB in dozens of chunks) cost
 * the Redeemer megabytes of copies and garbage per batch. A request that times out is also ended
 * here, so its socket does not stay busy with an answer nobody waits for.
 */
export async function httpGetUrl(req: FetchRequest, signal?: FetchCancelSignal): Promise<GetUrlResponse> {
  if (signal?.cancelled) throw makeError('request cancelled before sending', 'CANCELLED');
  const protocol = req.url.split(':')[0].toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') {
    throw makeError(`unsupported protocol ${protocol}`, 'UNSUPPORTED_OPERATION', {
      info: { protocol },
      operation: 'request',
    });
  }
  if (protocol === 'http' && req.credentials && !req.allowInsecureAuthentication) {
    throw makeError('insecure authorized connections unsupported', 'UNSUPPORTED_OPERATION', {
      operation: 'request',
    });
  }
  const abort = new AbortController();
  const request = (protocol === 'http' ? http : https).request(req.url, {
    method: req.method,
    headers: req.headers,
    signal: abort.signal,
  });
  return new Promise<GetUrlResponse>((resolve, reject: (error: Error) => void) => {
    signal?.addListener(() => {
      abort.abort();
      reject(makeError('request cancelled', 'CANCELLED'));
    });
    request.setTimeout(req.timeout, () => {
      request.destroy();
      reject(makeError('request timeout', 'TIMEOUT'));
    });
    request.once('response', (resp) => {
      const statusCode = resp.statusCode ?? 0;
      const statusMessage = resp.statusMessage ?? '';
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(resp.headers)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : (value ?? '');
      }
      const chunks: Buffer[] = [];
      const joined = () => (chunks.length <= 1 ? (chunks[0] ?? null) : Buffer.concat(chunks));
      resp.on('data', (chunk: Buffer) => chunks.push(chunk));
      resp.on('end', () => {
        let body: Uint8Array | null = joined();
        try {
          if (headers['content-encoding'] === 'gzip' && body) body = gunzipSync(body);
        } catch (error) {
          reject(
            makeError('bad response data', 'SERVER_ERROR', { request: req, info: { response: resp, error } }),
          );
          return;
        }
        resolve({ statusCode, statusMessage, headers, body });
      });
      resp.on('error', (error: Error & { response?: unknown }) => {
        error.response = {
          statusCode,
          statusMessage,
          headers,
          body: joined(),
        };
        reject(error);
      });
    });
    request.on('error', reject);
    request.end(req.body ?? undefined);
  });
}
