// The API's TLS material: server key and certificate, and the CA that client certificates must
// chain to with --tlsverify. Read and checked at start-up (a bad file stops berthd with the
// file named) and again on SIGHUP, so renewed certificates apply without a restart.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { ConfigError, type TlsSettings } from './config.ts';

async function read(what: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`invalid TLS configuration: could not read ${what} "${path}": ${(err as Error).message}`);
  }
}

/**
 * Server options for node:tls. With verify, only clients presenting a certificate signed by
 * the CA (and only that CA: not the system store, as dockerd's ExclusiveRootPools) complete the
 * handshake; TLS 1.2 is the floor, as in dockerd.
 */
export async function loadTlsOptions(s: TlsSettings): Promise<TlsOptions> {
  const key = await read('TLS key', s.key);
  const cert = await read('TLS certificate', s.cert);
  const ca = s.verify ? await read('CA certificate', s.caCert) : undefined;
  const opts: TlsOptions = {
    key, cert, minVersion: 'TLSv1.2',
    ...(s.verify ? { ca, requestCert: true, rejectUnauthorized: true } : { requestCert: false, rejectUnauthorized: false }),
  };
  try {
    createSecureContext(opts);
  } catch (err) {
    throw new ConfigError(`invalid TLS configuration: ${s.cert}, ${s.key}${s.verify ? `, ${s.caCert}` : ''}: ${(err as Error).message}`);
  }
  return opts;
}
