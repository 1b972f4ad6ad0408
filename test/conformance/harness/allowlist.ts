// The allowlist (test/conformance/ALLOWED.json): the differences Berth keeps on purpose.
// Each entry names where it applies (scenario, step, difference path: regular expressions),
// one of three kinds of reason, and the reason itself. An entry never hides a bug, so a step
// counts as allowlisted only when EVERY one of its differences is matched, and an entry that
// matched nothing in a whole run is reported as stale.
import { readFileSync } from 'node:fs';
import type { Difference } from './compare.ts';

export type AllowKind = 'newer-api' | 'better' | 'architecture';

export interface AllowEntry {
  /** regular expression over the scenario's name (default: every scenario) */
  scenario?: string;
  /** regular expression over the step's text */
  step?: string;
  /** regular expression over the difference's path (status, stdout, body.HostConfig.X, …) */
  where: string;
  kind: AllowKind;
  reason: string;
  /** for newer-api: the moby version whose behaviour Berth follows */
  moby?: string;
  /**
   * Only this much may differ: [pattern, replacement] applied to dockerd's value (as text);
   * the entry accepts the difference only when the result equals berthd's value.
   */
  rewrite?: [string, string];
  /**
   * Only this much may be extra in berthd's value: [pattern, replacement] applied to berthd's
   * value (as text); accepted only when the result equals dockerd's (a newer attribute, say).
   * With `rewrite` too, the two rewritten values must be equal (a path each daemon spells its
   * own way, but both present).
   */
  rewriteBerth?: [string, string];
}

export interface Allowlist { entries: AllowEntry[]; used: Set<number> }

export function loadAllowlist(file: string): Allowlist {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { entries: AllowEntry[] };
  for (const [i, e] of raw.entries.entries()) {
    if (!e.where || !e.reason || !['newer-api', 'better', 'architecture'].includes(e.kind)) {
      throw new Error(`ALLOWED.json entry ${i}: needs "where", "reason" and a kind of newer-api, better or architecture`);
    }
    if (e.kind === 'newer-api' && !e.moby) throw new Error(`ALLOWED.json entry ${i}: a newer-api entry names the moby version it follows ("moby")`);
    for (const k of ['scenario', 'step', 'where'] as const) if (e[k] !== undefined) new RegExp(e[k]!);
  }
  return { entries: raw.entries, used: new Set() };
}

/** The entry that accepts this difference, if any (and marks it used). */
export function allowed(list: Allowlist, scenario: string, stepText: string, d: Difference): AllowEntry | undefined {
  for (const [i, e] of list.entries.entries()) {
    if (e.scenario && !new RegExp(e.scenario).test(scenario)) continue;
    if (e.step && !new RegExp(e.step).test(stepText)) continue;
    if (!new RegExp(`^(?:${e.where})$`).test(d.where)) continue;
    const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
    // With one rewrite the other side is taken as it is; with both, the two rewritten values meet.
    const docker = e.rewrite ? text(d.docker).replace(new RegExp(e.rewrite[0], 'g'), e.rewrite[1]) : undefined;
    const berth = e.rewriteBerth ? text(d.berth).replace(new RegExp(e.rewriteBerth[0], 'g'), e.rewriteBerth[1]) : undefined;
    if (docker !== undefined && docker !== (berth ?? text(d.berth))) continue;
    if (berth !== undefined && berth !== (docker ?? text(d.docker))) continue;
    list.used.add(i);
    return e;
  }
  return undefined;
}
