// The flags every command takes before its name (`berth -H tcp://… --tlsverify ps`) and how they
// and the environment choose the daemon: -H, BERTH_HOST, DOCKER_HOST, then the default socket
// (a non-root user's own rootless berthd when its socket exists, else the system's);
// TLS from --tls/--tlsverify/DOCKER_TLS_VERIFY with certificates from --tls* or DOCKER_CERT_PATH.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, hostAddress, parseHost, type TlsFiles } from '../client/engine-client.ts';
import { CliError } from './command.ts';
import type { FlagSpec, Opts } from './flags.ts';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', desc: 'Location of client config files', default: join(homedir(), '.docker') },
  { name: 'context', short: 'c', type: 'string', desc: 'Name of the context to use (only "default")', hidden: true },
  { name: 'debug', short: 'D', type: 'bool', desc: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', desc: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', type: 'string', desc: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', default: 'info' },
  { name: 'tls', type: 'bool', desc: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', desc: 'Trust certs signed only by this CA', default: join(homedir(), '.docker', 'ca.pem') },
  { name: 'tlscert', type: 'string', desc: 'Path to TLS certificate file', default: join(homedir(), '.docker', 'cert.pem') },
  { name: 'tlskey', type: 'string', desc: 'Path to TLS key file', default: join(homedir(), '.docker', 'key.pem') },
  { name: 'tlsverify', type: 'bool', desc: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', desc: 'Print version information and quit' },
];

export function configDir(o: Opts, env: NodeJS.ProcessEnv = process.env): string {
  if (o.changed('config')) return o.str('config')!;
  return env.BERTH_CONFIG || env.DOCKER_CONFIG || join(homedir(), '.docker');
}

function tlsFiles(o: Opts, env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const verify = o.changed('tlsverify') ? o.bool('tlsverify') : !!env.DOCKER_TLS_VERIFY;
  if (!verify && !o.bool('tls')) return undefined;
  const certDir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const read = (flag: string, file: string, required: boolean): Buffer | undefined => {
    const path = o.changed(flag) ? o.str(flag)!.replace(/^~(?=\/)/, homedir()) : join(certDir, file);
    try {
      return readFileSync(path);
    } catch (err) {
      if (!required && !o.changed(flag)) return undefined;
      throw new CliError(`could not read ${flag === 'tlscacert' ? 'CA certificate' : flag === 'tlscert' ? 'certificate' : 'key'} "${path}": ${(err as Error).message}`);
    }
  };
  return { ca: read('tlscacert', 'ca.pem', verify), cert: read('tlscert', 'cert.pem', false), key: read('tlskey', 'key.pem', false), verify };
}

/** The client for these global flags; nothing is sent until a command makes its first request. */
export function makeClient(o: Opts, env: NodeJS.ProcessEnv = process.env): EngineClient {
  const hosts = o.list('host');
  if (hosts.length > 1) throw new CliError('Specify only one -H');
  const ctxName = o.str('context') ?? env.DOCKER_CONTEXT;
  if (ctxName && ctxName !== 'default') throw new CliError(`context "${ctxName}" does not exist: berth has only the default context`);
  const address = hostAddress(hosts[0], env, { context: ctxName });
  const tls = tlsFiles(o, env);
  const version = env.BERTH_API_VERSION || env.DOCKER_API_VERSION || undefined;
  return new EngineClient(parseHost(address), { address, tls, version });
}
