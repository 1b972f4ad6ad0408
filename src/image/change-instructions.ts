// The Dockerfile instructions `docker import --change` and `docker commit --change` accept,
// applied to an image's container config (moby builder/dockerfile: the same subset).
import { InvalidParameter } from '../errors.ts';
import type { ContainerConfigFields } from '../types/oci-image.ts';

const allowed = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* shell form */ }
  return undefined;
}

function unquote(s: string): string {
  if ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) return s.slice(1, -1);
  return s;
}

/** `k=v k2="v 2"` pairs, or the legacy `k v` single pair. */
function pairs(rest: string): [string, string][] {
  const words = rest.match(/(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g) ?? [];
  if (words.length && !words[0]!.includes('=')) {
    const i = rest.search(/\s/);
    if (i < 0) throw new InvalidParameter(`missing value in "${rest}"`);
    return [[rest.slice(0, i), rest.slice(i).trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameter(`invalid key=value: ${w}`);
    return [w.slice(0, i), unquote(w.slice(i + 1))] as [string, string];
  });
}

export function applyChanges(base: ContainerConfigFields, changes: string[]): ContainerConfigFields {
  const c: ContainerConfigFields = { ...base };
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.search(/\s/);
    const instr = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (!allowed.has(instr)) throw new InvalidParameter(`${instr.toLowerCase()} is not a valid change command`);
    switch (instr) {
      case 'CMD': c.Cmd = jsonArray(rest) ?? ['/bin/sh', '-c', rest]; break;
      case 'ENTRYPOINT': c.Entrypoint = jsonArray(rest) ?? ['/bin/sh', '-c', rest]; break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`; else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL': c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest)) }; break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? rest.split(/\s+/).filter(Boolean)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'USER': c.User = rest; break;
      case 'WORKDIR': c.WorkingDir = rest; break;
      case 'STOPSIGNAL': c.StopSignal = rest; break;
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), rest]; break;
    }
  }
  return c;
}
