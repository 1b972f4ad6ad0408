// `berth registry serve|gc`: flags → options → src/registry. The server runs in this process until
// SIGINT or SIGTERM, then closes its connections and returns.
import type { Command } from 'commander';
import { collectGarbage, startRegistry } from '../registry/index.ts';

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid --addr ${addr}: want HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

export function addRegistryCommand(program: Command): void {
  const registry = program.command('registry').description('Run an OCI Distribution registry');

  registry.command('serve').description('Serve the registry API')
    .requiredOption('--root <dir>', 'storage directory')
    .option('--addr <host:port>', 'listen address', '127.0.0.1:5000')
    .option('--htpasswd <file>', 'htpasswd file with bcrypt hashes (HTTP Basic auth)')
    .option('--token-auth', 'require bearer tokens from this server\'s /token endpoint')
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--log', 'log one line per request to stderr')
    .action(async (o: { root: string; addr: string; htpasswd?: string; tokenAuth?: boolean; tlsCert?: string; tlsKey?: string; log?: boolean }) => {
      if (!!o.tlsCert !== !!o.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      const { host, port } = parseAddr(o.addr);
      const srv = await startRegistry({
        root: o.root, host, port, htpasswd: o.htpasswd, tokenAuth: o.tokenAuth,
        tls: o.tlsCert && o.tlsKey ? { cert: o.tlsCert, key: o.tlsKey } : undefined,
        log: o.log ? (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`) : undefined,
      });
      process.stderr.write(`listening on ${srv.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await srv.close();
    });

  registry.command('gc').description('Remove blobs no manifest references, and stale uploads')
    .requiredOption('--root <dir>', 'storage directory')
    .option('--dry-run', 'only list what would be removed')
    .option('--delete-untagged', 'also remove manifests no tag reaches')
    .action(async (o: { root: string; dryRun?: boolean; deleteUntagged?: boolean }) => {
      const r = await collectGarbage(o.root, { dryRun: o.dryRun, deleteUntagged: o.deleteUntagged });
      for (const item of r.removed) process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${item}\n`);
      process.stdout.write(`${r.removed.length} item(s), ${r.bytes} bytes ${o.dryRun ? 'would be freed' : 'freed'}\n`);
    });
}
