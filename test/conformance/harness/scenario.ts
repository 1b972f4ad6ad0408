// The scenario format (test/conformance/scenarios/*.scn): one step a line, each run against
// dockerd and against berthd and compared.
//
//   docker run -d --name web busybox sleep 300           a CLI step: `bash -c` in $W, `docker` = CLI 28.2
//   API GET /v1.41/containers/web/json                   an API step: method, path (with version)
//   API POST /v1.41/containers/create?name=x {"Image":"busybox"}     JSON body after the path
//
// A line ending in `\` continues on the next; `#` lines are comments, except directives that
// apply to the next step:
//   @setup            run it; compare only its exit/HTTP status
//   @sort             compare stdout's lines (or a JSON array answer) sorted
//   @ignore-stdout / @ignore-stderr / @ignore-body        leave that part out
//   @numbers          every number becomes N (PIDs, sizes that legitimately differ)
//   @keys             JSON: compare key sets and value types only
//   @capture VAR [.Path]   $VAR = the JSON answer's field (or the trimmed stdout) for later steps
//   @timeout MS       a streaming API step: read MS ms, then compare what arrived
//   @raw              an API step whose body is sent as it is (not as JSON)
//   @header K: V      an API request header (repeatable)
//   @open REASON      a known gap, not fixed yet: a difference is counted and shown as open with
//                     its reason instead of failing the run (an equal answer is reported, so the
//                     marker is dropped once fixed). Never for a difference Berth keeps: that is
//                     ALLOWED.json's

export interface Step {
  /** scenario file line of the step's first line */
  line: number;
  kind: 'cli' | 'api';
  /** the command (cli) or the whole `METHOD path body` text (api) */
  text: string;
  method?: string;
  path?: string;
  body?: string;
  setup: boolean;
  sort: boolean;
  ignore: { stdout: boolean; stderr: boolean; body: boolean };
  numbers: boolean;
  keys: boolean;
  capture?: { name: string; path?: string };
  timeoutMs?: number;
  raw: boolean;
  headers: Record<string, string>;
  open?: string;
}

interface Pending { setup: boolean; sort: boolean; ignore: Step['ignore']; numbers: boolean; keys: boolean; capture?: Step['capture']; timeoutMs?: number; raw: boolean; headers: Record<string, string>; open?: string }

const fresh = (): Pending => ({ setup: false, sort: false, ignore: { stdout: false, stderr: false, body: false }, numbers: false, keys: false, raw: false, headers: {} });

export function parseScenario(text: string, file = 'scenario'): Step[] {
  const steps: Step[] = [];
  let p = fresh();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    const start = i + 1;
    if (/^\s*#/.test(l)) {
      const m = /^\s*#\s*@([\w-]+)\s*(.*)$/.exec(l);
      if (!m) continue;
      const [, d, arg] = m as unknown as [string, string, string];
      switch (d) {
        case 'setup': p.setup = true; break;
        case 'sort': p.sort = true; break;
        case 'ignore-stdout': p.ignore.stdout = true; break;
        case 'ignore-stderr': p.ignore.stderr = true; break;
        case 'ignore-body': p.ignore.body = true; break;
        case 'numbers': p.numbers = true; break;
        case 'keys': p.keys = true; break;
        case 'raw': p.raw = true; break;
        case 'open':
          if (!arg.trim()) throw new Error(`${file}:${start}: @open needs the reason`);
          p.open = arg.trim();
          break;
        case 'capture': {
          const [name, path] = arg.trim().split(/\s+/);
          if (!name || !/^[A-Za-z_]\w*$/.test(name)) throw new Error(`${file}:${start}: @capture needs a variable name`);
          p.capture = { name, path };
          break;
        }
        case 'timeout': {
          const ms = Number(arg.trim());
          if (!Number.isInteger(ms) || ms <= 0 || ms > 30_000) throw new Error(`${file}:${start}: @timeout needs 1..30000 ms`);
          p.timeoutMs = ms;
          break;
        }
        case 'header': {
          const hm = /^([\w-]+):\s*(.*)$/.exec(arg.trim());
          if (!hm) throw new Error(`${file}:${start}: @header needs "Name: value"`);
          p.headers[hm[1]!] = hm[2]!;
          break;
        }
        default: throw new Error(`${file}:${start}: unknown directive @${d}`);
      }
      continue;
    }
    while (l.endsWith('\\') && i + 1 < lines.length) l = `${l.slice(0, -1)}\n${lines[++i]}`;
    if (!l.trim()) continue;
    const api = /^API\s+([A-Z]+)\s+(\S+)(?:\s+([\s\S]*))?$/.exec(l.trim());
    if (l.trim().startsWith('API ') && !api) throw new Error(`${file}:${start}: an API step is "API METHOD /path [body]"`);
    if (api) {
      const body = api[3]?.trim();
      if (body && !p.raw) {
        try { JSON.parse(body); } catch { throw new Error(`${file}:${start}: the body is not JSON (use @raw for other bodies)`); }
      }
      steps.push({ line: start, kind: 'api', text: l.trim(), method: api[1], path: api[2], body: body || undefined, ...p });
    } else {
      steps.push({ line: start, kind: 'cli', text: l, ...p });
    }
    p = fresh();
  }
  return steps;
}

/** `$VAR` and `${VAR}` of captured values (unknown names stay as they are: the shell's own). */
export function substitute(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? all);
}
