// Certificates made with the openssl CLI: self-signed ones for TLS probe tests, and a small CA for mTLS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
}

/** A self-signed cert for 127.0.0.1/localhost valid for `days` days. */
export function selfSignedCert(days = 30): TestCert {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', String(days), '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore', timeout: 20_000 });
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestCa extends TestCert {
  /** A certificate for `cn` signed by this CA: server (SAN 127.0.0.1/localhost) or client use. */
  issue(cn: string, use?: 'server' | 'client'): TestCert;
}

/** A throwaway CA (openssl CLI) that signs server and client certificates. */
export function testCa(name = 'Vigil Test CA'): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ca-'));
  try {
    const f = (n: string) => path.join(dir, n);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore', timeout: 20_000 });
    const ca = { key: readFileSync(f('ca.key'), 'utf8'), cert: readFileSync(f('ca.pem'), 'utf8') };
    return {
      ...ca,
      issue(cn, use = 'server') {
        const d = mkdtempSync(path.join(tmpdir(), 'vigil-leaf-'));
        try {
          const g = (n: string) => path.join(d, n);
          writeFileSync(g('ca.key'), ca.key);
          writeFileSync(g('ca.pem'), ca.cert);
          writeFileSync(g('ext.cnf'), use === 'server'
            ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n'
            : `subjectAltName=DNS:${cn}\nextendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n`);
          execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', g('leaf.key'), '-out', g('leaf.csr'), '-subj', `/CN=${cn}`], { stdio: 'ignore', timeout: 20_000 });
          execFileSync('openssl', ['x509', '-req', '-in', g('leaf.csr'), '-CA', g('ca.pem'), '-CAkey', g('ca.key'), '-CAcreateserial', '-out', g('leaf.pem'), '-days', '2', '-extfile', g('ext.cnf')], { stdio: 'ignore', timeout: 20_000 });
          return { key: readFileSync(g('leaf.key'), 'utf8'), cert: readFileSync(g('leaf.pem'), 'utf8') };
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
