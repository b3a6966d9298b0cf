import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PKI written to a temp dir: one CA, a server cert for 127.0.0.1, a client cert. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA with a client cert it signed: must be refused under mTLS. */
  rogueCaCert: string;
  rogueClientCert: string;
  rogueClientKey: string;
  read(path: string): Buffer;
  remove(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function newCa(dir: string, name: string): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2',
    '-subj', `/CN=${name}`, '-out', `${name}.crt`,
  ]); // prettier-ignore
}

function newLeaf(dir: string, name: string, ca: string, ext: string): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`,
  ]); // prettier-ignore
}

/** Needs the `openssl` CLI (node:crypto cannot issue X.509 certificates). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ticketpay-pki-'));
  newCa(dir, 'ca');
  newCa(dir, 'rogue-ca');
  newLeaf(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  newLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  newLeaf(dir, 'rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueCaCert: p('rogue-ca.crt'),
    rogueClientCert: p('rogue-client.crt'),
    rogueClientKey: p('rogue-client.key'),
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
