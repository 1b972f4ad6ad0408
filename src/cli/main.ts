// berth: a minimal client for berthd (and any Docker Engine API). It parses flags into
// options and calls the API; the Docker CLI remains the full-featured client.
import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import { EngineClient, resolveHost, ApiError, checkOk, readAll, demux } from '../client/engine-client.ts';
import { table } from './tabwriter.ts';
import { addBuildCommand } from './build.ts';
import { addRegistryCommand } from './registry.ts';

const short = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

function ago(unixSeconds: number): string {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unixSeconds));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.floor(s / 60)} minutes ago`;
  if (s < 172800) return `${Math.floor(s / 3600)} hours ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

function size(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toPrecision(3)}${units[i]}`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('berth').description('A minimal client for berthd').option('-H, --host <addr>', 'daemon socket (unix:///path or tcp://host:port)')
    .enablePositionalOptions().exitOverride();
  const client = (): EngineClient => new EngineClient(resolveHost(program.opts<{ host?: string }>().host));
  addRegistryCommand(program);
  let code = 0;

  program.command('version').description('Show the server version').action(async () => {
    const v = await client().request<{ Version: string; ApiVersion: string; Os: string; Arch: string }>('GET', '/version');
    process.stdout.write(`Server: ${v.Version} (API ${v.ApiVersion}, ${v.Os}/${v.Arch})\n`);
  });

  program.command('info').description('Show daemon information').action(async () => {
    const i = await client().request<Record<string, unknown>>('GET', '/info');
    for (const k of ['Name', 'ServerVersion', 'Containers', 'ContainersRunning', 'ContainersPaused', 'ContainersStopped', 'Images', 'Driver', 'CgroupVersion', 'DockerRootDir']) {
      process.stdout.write(`${k}: ${String(i[k])}\n`);
    }
  });

  program.command('ps').description('List containers').option('-a, --all', 'all containers').option('-q, --quiet', 'only IDs')
    .action(async (o: { all?: boolean; quiet?: boolean }) => {
      const list = await client().request<{ Id: string; Image: string; Command: string; Created: number; Status: string; Names: string[] }[]>('GET', `/containers/json?all=${o.all ? 1 : 0}`);
      if (o.quiet) { for (const c of list) process.stdout.write(`${short(c.Id)}\n`); return; }
      process.stdout.write(table([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
        ...list.map((c) => [short(c.Id), c.Image, JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command), ago(c.Created), c.Status, c.Names.map((n) => n.slice(1)).join(',')])]));
    });

  program.command('images').description('List images').option('-q, --quiet', 'only IDs').action(async (o: { quiet?: boolean }) => {
    const list = await client().request<{ Id: string; RepoTags: string[]; Created: number; Size: number }[]>('GET', '/images/json');
    if (o.quiet) { for (const i of list) process.stdout.write(`${short(i.Id)}\n`); return; }
    const rows = list.flatMap((i) => (i.RepoTags.length ? i.RepoTags : ['<none>:<none>']).map((t) => {
      const at = t.lastIndexOf(':');
      return [t.slice(0, at), t.slice(at + 1), short(i.Id), ago(i.Created), size(i.Size)];
    }));
    process.stdout.write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  });

  program.command('import').description('Import a rootfs tarball as an image').argument('<file>', 'tar file, or - for stdin').argument('[ref]', 'REPO[:TAG]')
    .action(async (file: string, ref?: string) => {
      const q = new URLSearchParams({ fromSrc: '-' });
      if (ref) q.set('repo', ref);
      const body = file === '-' ? process.stdin : createReadStream(file);
      const res = await client().raw('POST', `/images/create?${q}`, body, { 'Content-Type': 'application/x-tar' });
      await checkOk(res);
      for (const line of (await readAll(res)).toString().split('\n').filter((l) => l.trim())) {
        const m = JSON.parse(line) as { status?: string; error?: string };
        if (m.error) throw new Error(m.error);
        if (m.status) process.stdout.write(`${m.status}\n`);
      }
    });

  program.command('run').description('Run a command in a new container (non-interactive)')
    .option('--rm', 'remove the container when it exits').option('-d, --detach', 'run in the background and print the ID')
    .option('-e, --env <kv>', 'set an environment variable (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--name <name>', 'container name').argument('<image>').argument('[cmd...]').passThroughOptions()
    .action(async (image: string, cmd: string[], o: { rm?: boolean; detach?: boolean; env?: string[]; name?: string }) => {
      const c = client();
      const q = o.name ? `?name=${encodeURIComponent(o.name)}` : '';
      const { Id } = await c.request<{ Id: string }>('POST', `/containers/create${q}`, {
        Image: image, Cmd: cmd.length ? cmd : null, Env: o.env ?? [], AttachStdout: !o.detach, AttachStderr: !o.detach,
        HostConfig: { AutoRemove: false },
      });
      if (o.detach) {
        await c.request('POST', `/containers/${Id}/start`);
        process.stdout.write(`${Id}\n`);
        return;
      }
      const wait = await c.raw('POST', `/containers/${Id}/wait?condition=next-exit`);
      await checkOk(wait);
      await c.request('POST', `/containers/${Id}/start`);
      const logs = await c.raw('GET', `/containers/${Id}/logs?follow=1&stdout=1&stderr=1`);
      await checkOk(logs);
      for await (const f of demux(logs)) (f.stream === 2 ? process.stderr : process.stdout).write(f.data);
      code = (JSON.parse((await readAll(wait)).toString()) as { StatusCode: number }).StatusCode;
      if (o.rm) await c.request('DELETE', `/containers/${Id}?force=1`);
    });

  program.command('rm').description('Remove containers').option('-f, --force', 'kill running ones first').argument('<names...>')
    .action(async (names: string[], o: { force?: boolean }) => {
      for (const n of names) {
        try {
          await client().request('DELETE', `/containers/${encodeURIComponent(n)}?force=${o.force ? 1 : 0}`);
          process.stdout.write(`${n}\n`);
        } catch (err) {
          process.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
          code = 1;
        }
      }
    });

  addBuildCommand(program, client, (n) => { code = n; });

  program.command('logs').description('Show a container\'s output').argument('<name>').action(async (name: string) => {
    const c = client();
    const info = await c.request<{ Config: { Tty: boolean } }>('GET', `/containers/${encodeURIComponent(name)}/json`);
    const res = await c.raw('GET', `/containers/${encodeURIComponent(name)}/logs?stdout=1&stderr=1`);
    await checkOk(res);
    if (info.Config.Tty) { process.stdout.write(await readAll(res)); return; }
    for await (const f of demux(res)) (f.stream === 2 ? process.stderr : process.stdout).write(f.data);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('commander.')) return (err as { exitCode?: number }).exitCode ?? 1;
    process.stderr.write(err instanceof ApiError ? `Error response from daemon: ${err.message}\n` : `berth: ${(err as Error).message}\n`);
    return err instanceof ApiError ? 125 : 1;
  }
  return code;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
