import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './server-config.js';

/**
 * The `--mtls-ca` bundle: the PEM certificates of the CAs whose certificates `tls_client_auth`
 * accepts (root or intermediate: a proxy forwards the leaf alone, so the CA that issued it must be
 * here). Throws with a message naming the problem: no certificate, one that does not parse, or
 * one that is not a CA.
 */
export function parseCaBundle(pem: string | Buffer): X509Certificate[] {
  const blocks = String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${index + 1} cannot be read: ${(error as Error).message}`);
    }
    if (!certificate.ca) throw new Error(`certificate ${index + 1} (${certificate.subject.replace(/\n/g, ', ')}) is not a CA (basicConstraints CA:TRUE)`);
    return certificate;
  });
}

/** The `--mtls-ca` file, read and checked at start: a problem is a configuration error naming the setting. */
export function readCaBundle(path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
    parseCaBundle(pem);
  } catch (error) {
    throw new ConfigError([
      `--mtls-ca / M2M_AUTH_MTLS_CA: ${path} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message}`,
    ]);
  }
  return pem;
}
