// `berth registry serve|gc`: Berth's own OCI Distribution registry (src/registry), loaded only
// when these commands run. The server runs in this process until SIGINT or SIGTERM.
import { CliError, type CommandSpec } from './command.ts';

function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new CliError(`invalid --addr ${addr}: want HOST:PORT`, 125);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

const root = { name: 'root', type: 'string', desc: 'Storage directory (required)' } as const;

export const registryCommands: CommandSpec[] = [
  {
    paths: [['registry', 'serve']],
    usage: '--root DIR [OPTIONS]',
    description: 'Serve the registry API',
    args: { max: 0 },
    flags: [
      root,
      { name: 'addr', type: 'string', value: 'host:port', desc: 'Listen address', default: '127.0.0.1:5000' },
      { name: 'htpasswd', type: 'string', value: 'file', desc: 'htpasswd file with bcrypt hashes (HTTP Basic auth)' },
      { name: 'token-auth', type: 'bool', desc: 'Require bearer tokens from this server\'s /token endpoint' },
      { name: 'tls-cert', type: 'string', value: 'file', desc: 'TLS certificate (PEM)' },
      { name: 'tls-key', type: 'string', value: 'file', desc: 'TLS private key (PEM)' },
      { name: 'log', type: 'bool', desc: 'Log one line per request to stderr' },
    ],
    async run(ctx, _args, o) {
      const dir = o.str('root');
      if (!dir) throw new CliError('--root is required', 125);
      const cert = o.str('tls-cert');
      const key = o.str('tls-key');
      if (!!cert !== !!key) throw new CliError('--tls-cert and --tls-key go together', 125);
      if (o.bool('token-auth') && !o.str('htpasswd')) {
        throw new CliError('--token-auth needs --htpasswd: without it /token would issue push tokens to anyone', 125);
      }
      const { host, port } = parseAddr(o.str('addr')!);
      const { startRegistry } = await import('../registry/index.ts');
      const srv = await startRegistry({
        root: dir, host, port, htpasswd: o.str('htpasswd'), tokenAuth: o.bool('token-auth'),
        tls: cert && key ? { cert, key } : undefined,
        log: o.bool('log') ? (line) => ctx.err.write(`${new Date().toISOString()} ${line}\n`) : undefined,
        warn: (line) => ctx.err.write(`${line}\n`),
      });
      ctx.err.write(`listening on ${srv.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await srv.close();
    },
  },
  {
    paths: [['registry', 'gc']],
    usage: '--root DIR [OPTIONS]',
    description: 'Remove blobs no manifest references, and stale uploads',
    args: { max: 0 },
    flags: [
      root,
      { name: 'dry-run', type: 'bool', desc: 'Only list what would be removed' },
      { name: 'delete-untagged', type: 'bool', desc: 'Also remove manifests no tag reaches' },
    ],
    async run(ctx, _args, o) {
      const dir = o.str('root');
      if (!dir) throw new CliError('--root is required', 125);
      const dry = o.bool('dry-run');
      const { collectGarbage } = await import('../registry/index.ts');
      const r = await collectGarbage(dir, { dryRun: dry, deleteUntagged: o.bool('delete-untagged') });
      for (const item of r.removed) ctx.out.write(`${dry ? 'would remove' : 'removed'} ${item}\n`);
      ctx.out.write(`${r.removed.length} item(s), ${r.bytes} bytes ${dry ? 'would be freed' : 'freed'}\n`);
    },
  },
];
