// What `berth completion __complete` answers for the words typed so far: command names, the
// flags of the command being completed, and names from the daemon (containers by state, images,
// networks, volumes). Everything static comes from the command specs, so new commands and flags
// complete without editing word lists.
import type { CommandSpec } from '../command.ts';
import type { FlagSpec } from '../flags.ts';
import { GROUPS } from '../command.ts';
import { GLOBAL_FLAGS, makeClient } from '../globals.ts';
import { parseFlags } from '../flags.ts';
import type { EngineClient } from '../../client/engine-client.ts';

/** A candidate and its description (zsh shows it; bash only the word). */
export interface Candidate { word: string; desc?: string }

type Kind = 'containers' | 'running' | 'stopped' | 'paused' | 'images' | 'networks' | 'volumes' | 'shells';

/** The names a command's positional arguments complete to, by command name (any of its paths). */
const POSITIONAL: [names: string[], kinds: Kind[]][] = [
  [['exec', 'attach', 'stop', 'kill', 'pause', 'stats', 'top'], ['running']],
  [['start'], ['stopped']],
  [['unpause'], ['paused']],
  [['rm', 'restart', 'logs', 'inspect', 'port', 'rename', 'wait', 'diff', 'commit', 'export', 'update', 'cp',
    'container rm', 'container inspect'], ['containers']],
  [['run', 'create', 'rmi', 'tag', 'push', 'history', 'save', 'image rm', 'image inspect', 'image tag', 'image push', 'image history', 'image save'], ['images']],
  [['network rm', 'network inspect'], ['networks']],
  [['network connect', 'network disconnect'], ['networks', 'containers']],
  [['volume rm', 'volume inspect'], ['volumes']],
  [['completion'], ['shells']],
];

/** Flags whose values are names from the daemon. */
const FLAG_VALUES: Record<string, Kind> = { network: 'networks', net: 'networks', 'volumes-from': 'containers', link: 'containers' };

/** Commands whose arguments after the first belong to the container (run sh -c …): no completion there. */
const STOPS_AT_FIRST = new Set(['run', 'create', 'exec']);

function commandName(spec: CommandSpec): string[] {
  return spec.paths.map((p) => p.join(' '));
}

/** How a command's words name it: the longest path matching the start of `words`. */
function findSpec(commands: CommandSpec[], words: string[]): { spec: CommandSpec; used: number } | undefined {
  for (const n of [2, 1]) {
    const want = words.slice(0, n).join(' ');
    if (words.length < n) continue;
    const spec = commands.find((s) => s.paths.some((p) => p.join(' ') === want));
    if (spec) return { spec, used: n };
  }
  return undefined;
}

function flagCandidates(flags: FlagSpec[], cur: string): Candidate[] {
  const out: Candidate[] = [];
  for (const f of flags) {
    if (f.hidden) continue;
    out.push({ word: `--${f.name}`, desc: f.desc.split('\n')[0] });
    if (f.short && cur.length <= 2 && !cur.startsWith('--')) out.push({ word: `-${f.short}`, desc: f.desc.split('\n')[0] });
  }
  return out;
}

function topLevel(commands: CommandSpec[]): Candidate[] {
  const seen = new Map<string, string>();
  for (const [g, desc] of Object.entries(GROUPS)) {
    if (commands.some((s) => s.paths.some((p) => p.length === 2 && p[0] === g))) seen.set(g, desc);
  }
  for (const s of commands) for (const p of s.paths) if (p.length === 1 && !seen.has(p[0]!)) seen.set(p[0]!, s.description);
  seen.set('help', 'Help about any command');
  return [...seen].map(([word, desc]) => ({ word, desc }));
}

/** The flag spec a word names (`--name`, `-n`), for deciding whether the next word is its value. */
function flagOf(flags: FlagSpec[], word: string): FlagSpec | undefined {
  if (word.startsWith('--')) return word.includes('=') ? undefined : flags.find((f) => f.name === word.slice(2));
  if (word.startsWith('-') && word.length > 1) {
    // the last letter of a group takes the next word when it is not a boolean (-it, -dp 80:80)
    const last = word[word.length - 1]!;
    const f = flags.find((x) => x.short === last);
    return f && word.indexOf(last) === word.length - 1 ? f : undefined;
  }
  return undefined;
}

/** The positional arguments among `words` (after the command's name), skipping flag values. */
function positionals(flags: FlagSpec[], words: string[]): { args: string[]; pendingFlag?: FlagSpec } {
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') { args.push(...words.slice(i + 1)); break; }
    if (w.startsWith('-') && w.length > 1) {
      const f = flagOf(flags, w);
      if (f && f.type !== 'bool') {
        if (i + 1 === words.length) return { args, pendingFlag: f };
        i++;
      }
      continue;
    }
    args.push(w);
  }
  return { args };
}

/** Names from the daemon for a kind; failures (no daemon) give nothing. */
async function dynamic(client: () => EngineClient, kind: Kind): Promise<Candidate[]> {
  if (kind === 'shells') return [{ word: 'bash', desc: 'Generate the autocompletion script for bash' }, { word: 'zsh', desc: 'Generate the autocompletion script for zsh' }];
  try {
    const c = client();
    switch (kind) {
      case 'images': {
        const imgs = await c.imageList();
        return imgs.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').map((word) => ({ word, desc: 'image' }));
      }
      case 'networks': {
        const nets = await c.networkList();
        return nets.map((n) => ({ word: n.Name ?? '', desc: `network (${n.Driver})` }));
      }
      case 'volumes': {
        const r = await c.volumeList();
        return (r.Volumes ?? []).map((v) => ({ word: v.Name, desc: 'volume' }));
      }
      default: {
        const status = { running: ['running'], stopped: ['created', 'exited', 'dead'], paused: ['paused'], containers: [] }[kind];
        const ctrs = await c.containerList({ all: true, filters: status.length ? JSON.stringify({ status }) : undefined });
        return ctrs.flatMap((x) => (x.Names ?? []).map((n) => ({ word: n.replace(/^\//, ''), desc: `${x.State} (${x.Image})` })));
      }
    }
  } catch {
    return [];
  }
}

/**
 * The candidates for `words` (what follows `berth`, the last being the word under the cursor,
 * possibly empty). Candidates are not filtered by the prefix: the shells do that.
 */
export async function complete(commands: CommandSpec[], words: string[]): Promise<Candidate[]> {
  const cur = words[words.length - 1] ?? '';
  let prev = words.slice(0, -1);
  // leading global flags (-H host, --tls …) choose the daemon the names come from
  let globals;
  try {
    globals = parseFlags(prev, GLOBAL_FLAGS, false);
  } catch {
    return [];
  }
  const client = (): EngineClient => makeClient(globals.opts);
  prev = globals.args;
  if (prev.length === 0) return cur.startsWith('-') ? flagCandidates(GLOBAL_FLAGS, cur) : topLevel(commands);
  if (prev[0] === 'help') {
    if (prev.length === 1) return topLevel(commands);
    prev = prev.slice(1);
  }
  const found = findSpec(commands, prev);
  if (!found) {
    const group = prev[0]!;
    if (prev.length === 1 && group in GROUPS) {
      const subs = new Map<string, string>();
      for (const s of commands) for (const p of s.paths) if (p.length === 2 && p[0] === group && !subs.has(p[1]!)) subs.set(p[1]!, s.description);
      return [...subs].map(([word, desc]) => ({ word, desc }));
    }
    return [];
  }
  const { spec, used } = found;
  const rest = prev.slice(used);
  const { args, pendingFlag } = positionals(spec.flags, rest);
  if (pendingFlag) {
    const kind = FLAG_VALUES[pendingFlag.name];
    return kind ? dynamic(client, kind) : [];
  }
  const names = commandName(spec);
  if (spec.interspersed === false && args.length >= 1 && names.some((n) => STOPS_AT_FIRST.has(n.split(' ').pop()!))) return [];
  if (cur.startsWith('-')) return [...flagCandidates(spec.flags, cur), { word: '--help', desc: 'Print usage' }];
  const entry = POSITIONAL.find(([ns]) => ns.some((n) => names.includes(n)));
  if (!entry) return [];
  const [, kinds] = entry;
  // the last kind repeats (rm a b c); network connect's second argument is a container
  const kind = kinds[Math.min(args.length, kinds.length - 1)]!;
  if (spec.args?.max !== undefined && args.length >= spec.args.max) return [];
  return dynamic(client, kind);
}

/** One candidate a line: bash wants the word; zsh's _describe wants `word:description`. */
export function render(cands: Candidate[], shell: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of cands) {
    if (seen.has(c.word)) continue;
    seen.add(c.word);
    lines.push(shell === 'zsh' ? `${c.word.replace(/:/g, '\\:')}:${(c.desc ?? '').replace(/\n/g, ' ')}` : c.word);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
