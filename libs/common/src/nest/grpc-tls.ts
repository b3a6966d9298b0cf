import { readFileSync } from 'node:fs';
import { checkServerIdentity } from 'node:tls';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ConfigError } from '../config/config-error.js';

/** The INFRA_ENV settings of a service's outgoing gRPC calls (to the SenderMonitor, say). */
export interface GrpcClientTlsFiles {
  GRPC_TLS_SERVER_CA_FILE?: string;
  GRPC_TLS_CLIENT_CERT_FILE?: string;
  GRPC_TLS_CLIENT_KEY_FILE?: string;
  GRPC_TLS_SERVER_NAME?: string;
}

/**
 * The channel credentials of every gRPC call a service makes: plaintext when no server CA is set,
 * else TLS verifying the server against that CA, with a client certificate (mTLS) when one is set.
 * Meant to run at boot: every problem is listed in one ConfigError, which names settings and paths,
 * never a file's content (the key is a secret).
 */
export function grpcClientCredentials(files: GrpcClientTlsFiles): ChannelCredentials {
  const {
    GRPC_TLS_SERVER_CA_FILE: caFile,
    GRPC_TLS_CLIENT_CERT_FILE: certFile,
    GRPC_TLS_CLIENT_KEY_FILE: keyFile,
    GRPC_TLS_SERVER_NAME: serverName,
  } = files;
  const problems: string[] = [];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push('GRPC_TLS_CLIENT_CERT_FILE and GRPC_TLS_CLIENT_KEY_FILE must be set together');
  }
  if (caFile === undefined && (certFile !== undefined || keyFile !== undefined)) {
    problems.push(
      'a gRPC client certificate needs GRPC_TLS_SERVER_CA_FILE (client certificates are sent over TLS only)',
    );
  }
  if (caFile === undefined && serverName !== undefined) {
    problems.push('GRPC_TLS_SERVER_NAME needs GRPC_TLS_SERVER_CA_FILE');
  }
  // Every file that is set is read, so one boot attempt lists all that is wrong.
  const read = (setting: string, path: string | undefined, content: PemContent) =>
    path === undefined ? null : readPemFile(setting, path, content, problems);
  const ca = read('GRPC_TLS_SERVER_CA_FILE', caFile, 'CERTIFICATE');
  const cert = read('GRPC_TLS_CLIENT_CERT_FILE', certFile, 'CERTIFICATE');
  const key = read('GRPC_TLS_CLIENT_KEY_FILE', keyFile, 'PRIVATE KEY');
  if (problems.length > 0) throw new ConfigError(problems);
  if (ca === null) return credentials.createInsecure();
  // Verifies the server's certificate against the configured name rather than the dialled host,
  // for servers reached by an address their certificate does not list.
  const verify =
    serverName === undefined
      ? undefined
      : {
          checkServerIdentity: (_host: string, peer: Parameters<typeof checkServerIdentity>[1]) =>
            checkServerIdentity(serverName, peer),
        };
  try {
    return credentials.createSsl(ca, key, cert, verify);
  } catch (err) {
    // OpenSSL's reason (e.g. "key values mismatch"), never the material itself.
    throw new ConfigError([
      `gRPC client TLS material is unusable: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
}

/** What a PEM file must hold: certificates (a chain, a CA bundle) or a private key. */
export type PemContent = 'CERTIFICATE' | 'PRIVATE KEY';

/**
 * Reads one PEM file named by `setting`, adding a problem (setting, path and reason; never the
 * content) instead of throwing, so a caller can report every bad file at once.
 */
export function readPemFile(setting: string, path: string, content: PemContent, problems: string[]): Buffer {
  try {
    const pem = readFileSync(path).toString('latin1');
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    // A key given as the CA (or the reverse) would load and only fail every handshake later.
    if (!new RegExp(`-----BEGIN [A-Z ]*${content}-----`).test(pem))
      throw new Error(`holds no PEM ${content}`);
    return Buffer.from(pem, 'latin1');
  } catch (err) {
    const why = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    problems.push(`${setting}=${JSON.stringify(path)} cannot be used: ${why}`);
    return Buffer.alloc(0);
  }
}
