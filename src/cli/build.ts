// `berth build`: the classic builder's API with the Docker CLI's flags (-t, -f, --build-arg,
// --target, --no-cache, --pull, -q, --label); prints the daemon's stream as it comes.
import type { Command } from 'commander';
import { EngineClient, checkOk } from '../client/engine-client.ts';
import { packContext } from '../client/build-context.ts';

const many = (v: string, p: string[] = []): string[] => [...p, v];

export function addBuildCommand(program: Command, client: () => EngineClient, setCode: (n: number) => void): void {
  program.command('build').description('Build an image from a Dockerfile').argument('<context>', 'context directory')
    .option('-t, --tag <name>', 'name:tag for the image (repeatable)', many)
    .option('-f, --file <path>', 'Dockerfile, relative to the context', 'Dockerfile')
    .option('--build-arg <kv>', 'build-time variable (repeatable)', many)
    .option('--label <kv>', 'label for the image (repeatable)', many)
    .option('--target <stage>', 'stage to build')
    .option('--no-cache', 'do not use the cache')
    .option('--pull', 'always pull the base images')
    .option('-q, --quiet', 'print only the image ID')
    .action(async (dir: string, o: { tag?: string[]; file: string; buildArg?: string[]; label?: string[]; target?: string; cache: boolean; pull?: boolean; quiet?: boolean }) => {
      const q = new URLSearchParams({ dockerfile: o.file });
      for (const t of o.tag ?? []) q.append('t', t);
      const kv = (list: string[] = []): Record<string, string> => Object.fromEntries(list.map((s) => {
        const i = s.indexOf('=');
        return i < 0 ? [s, process.env[s] ?? ''] : [s.slice(0, i), s.slice(i + 1)];
      }));
      if (o.buildArg?.length) q.set('buildargs', JSON.stringify(kv(o.buildArg)));
      if (o.label?.length) q.set('labels', JSON.stringify(kv(o.label)));
      if (o.target) q.set('target', o.target);
      if (!o.cache) q.set('nocache', '1');
      if (o.pull) q.set('pull', '1');
      if (o.quiet) q.set('q', '1');
      const res = await client().raw('POST', `/build?${q}`, packContext(dir, o.file), { 'Content-Type': 'application/x-tar' });
      await checkOk(res);
      let rest = '';
      for await (const c of res) {
        rest += (c as Buffer).toString('utf8');
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (!line) continue;
          const m = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { code?: number; message?: string } };
          if (m.stream) process.stdout.write(m.stream);
          if (m.error) {
            process.stderr.write(`${m.errorDetail?.message ?? m.error}\n`);
            setCode(m.errorDetail?.code || 1);
          }
        }
      }
    });
}
