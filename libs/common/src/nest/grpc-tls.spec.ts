import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../../../../test/integration/tls/certs.js';
import { ConfigError } from '../config/config-error.js';
import { parseEnv } from '../config/env-schema.js';
import { INFRA_ENV } from '../config/infra-env.js';
import { grpcClientCredentials, type GrpcClientTlsFiles } from './grpc-tls.js';
import { readGrpcServerTls } from './bootstrap.js';

/** The ConfigError problems `files` are refused with (fails when they are accepted). */
function problemsOf(files: GrpcClientTlsFiles): readonly string[] {
  try {
    grpcClientCredentials(files);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('grpcClientCredentials', () => {
  let pki: TestPki;
  let keyBody: string;
  let notPem: string;

  beforeAll(() => {
    pki = createTestPki();
    // A line from the middle of the client key: it must never appear in a message.
    keyBody = pki.read(pki.clientKey).toString().split('\n')[1];
    notPem = join(pki.dir, 'not-pem.txt');
    writeFileSync(notPem, 'plain text\n');
  });

  afterAll(() => pki?.remove());

  it('is plaintext without settings, as before', () => {
    expect(grpcClientCredentials({})._isSecure()).toBe(false);
  });

  it('is TLS with the server CA alone, and mTLS with a client certificate too', () => {
    expect(grpcClientCredentials({ GRPC_TLS_SERVER_CA_FILE: pki.caCert })._isSecure()).toBe(true);
    const mtls = grpcClientCredentials({
      GRPC_TLS_SERVER_CA_FILE: pki.caCert,
      GRPC_TLS_CLIENT_CERT_FILE: pki.clientCert,
      GRPC_TLS_CLIENT_KEY_FILE: pki.clientKey,
      GRPC_TLS_SERVER_NAME: 'localhost',
    });
    expect(mtls._isSecure()).toBe(true);
  });

  it('refuses half a client key pair, and a client certificate or server name without a CA', () => {
    expect(
      problemsOf({ GRPC_TLS_SERVER_CA_FILE: pki.caCert, GRPC_TLS_CLIENT_CERT_FILE: pki.clientCert }),
    ).toEqual(['GRPC_TLS_CLIENT_CERT_FILE and GRPC_TLS_CLIENT_KEY_FILE must be set together']);
    expect(
      problemsOf({ GRPC_TLS_CLIENT_CERT_FILE: pki.clientCert, GRPC_TLS_CLIENT_KEY_FILE: pki.clientKey }),
    ).toEqual([expect.stringContaining('a gRPC client certificate needs GRPC_TLS_SERVER_CA_FILE')]);
    expect(problemsOf({ GRPC_TLS_SERVER_NAME: 'localhost' })).toEqual([
      'GRPC_TLS_SERVER_NAME needs GRPC_TLS_SERVER_CA_FILE',
    ]);
  });

  it('lists every problem at once, each naming its setting and path', () => {
    const problems = problemsOf({
      GRPC_TLS_SERVER_CA_FILE: join(pki.dir, 'missing-ca.crt'),
      GRPC_TLS_CLIENT_KEY_FILE: notPem,
    });
    expect(problems).toEqual([
      'GRPC_TLS_CLIENT_CERT_FILE and GRPC_TLS_CLIENT_KEY_FILE must be set together',
      `GRPC_TLS_SERVER_CA_FILE=${JSON.stringify(join(pki.dir, 'missing-ca.crt'))} cannot be used: ENOENT`,
      `GRPC_TLS_CLIENT_KEY_FILE=${JSON.stringify(notPem)} cannot be used: not a PEM file`,
    ]);
  });

  it('refuses a file holding the wrong kind of PEM (a key as the CA, a certificate as the key)', () => {
    expect(problemsOf({ GRPC_TLS_SERVER_CA_FILE: pki.clientKey })).toEqual([
      `GRPC_TLS_SERVER_CA_FILE=${JSON.stringify(pki.clientKey)} cannot be used: holds no PEM CERTIFICATE`,
    ]);
    expect(
      problemsOf({
        GRPC_TLS_SERVER_CA_FILE: pki.caCert,
        GRPC_TLS_CLIENT_CERT_FILE: pki.clientCert,
        GRPC_TLS_CLIENT_KEY_FILE: pki.clientCert,
      }),
    ).toEqual([
      `GRPC_TLS_CLIENT_KEY_FILE=${JSON.stringify(pki.clientCert)} cannot be used: holds no PEM PRIVATE KEY`,
    ]);
  });

  it('refuses a key that does not belong to the certificate, without echoing the key', () => {
    const problems = problemsOf({
      GRPC_TLS_SERVER_CA_FILE: pki.caCert,
      GRPC_TLS_CLIENT_CERT_FILE: pki.rogueClientCert,
      GRPC_TLS_CLIENT_KEY_FILE: pki.clientKey,
    });
    expect(problems).toEqual([expect.stringMatching(/^gRPC client TLS material is unusable: .*mismatch/)]);
    expect(problems.join('\n')).not.toContain(keyBody);
  });

  it('never echoes file contents, whatever is wrong', () => {
    const bad: GrpcClientTlsFiles[] = [
      { GRPC_TLS_SERVER_CA_FILE: pki.clientKey, GRPC_TLS_CLIENT_KEY_FILE: pki.clientKey },
      { GRPC_TLS_CLIENT_CERT_FILE: pki.clientKey, GRPC_TLS_CLIENT_KEY_FILE: pki.clientKey },
    ];
    for (const files of bad) expect(problemsOf(files).join('\n')).not.toContain(keyBody);
  });

  it('checks the server-side files for the right kind of PEM too', () => {
    expect(() =>
      readGrpcServerTls({ GRPC_TLS_CERT_FILE: pki.serverKey, GRPC_TLS_KEY_FILE: pki.serverKey }),
    ).toThrow(/GRPC_TLS_CERT_FILE=.* holds no PEM CERTIFICATE/);
  });
});

describe('GRPC_TLS_SERVER_NAME', () => {
  const schema = { GRPC_TLS_SERVER_NAME: INFRA_ENV.GRPC_TLS_SERVER_NAME };

  it('accepts DNS names and IPv4 addresses', () => {
    for (const name of ['localhost', 'sender-monitor.internal', '10.0.0.7']) {
      expect(parseEnv(schema, { GRPC_TLS_SERVER_NAME: name }).GRPC_TLS_SERVER_NAME).toBe(name);
    }
    expect(parseEnv(schema, {}).GRPC_TLS_SERVER_NAME).toBeUndefined();
  });

  it('refuses what is not a host name', () => {
    for (const name of ['https://sender-monitor', 'sender-monitor:8935', 'two words', '-bad.example']) {
      expect(() => parseEnv(schema, { GRPC_TLS_SERVER_NAME: name })).toThrow(
        /GRPC_TLS_SERVER_NAME=.* is invalid: expected a host name/,
      );
    }
  });
});
