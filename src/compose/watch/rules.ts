// develop.watch rules, checked and compiled once when watch starts, and the one question asked of
// them for every changed file: does this rule take this host path, and where does it go in the
// container? (Compose v2's getWatchRules + watchRule.Matches.)
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { ComposeError, type Project, type Service, type WatchRule } from '../model/types.ts';
import { ANY_MATCH, EPHEMERAL, anyOf, loadDockerignore, patternMatcher, relativeUnder, type PathMatcher } from './path-matcher.ts';

export type WatchAction = 'sync' | 'rebuild' | 'sync+restart' | 'restart' | 'sync+exec';
const ACTIONS: readonly string[] = ['sync', 'rebuild', 'sync+restart', 'restart', 'sync+exec'];

/** A host path and where a sync puts it (no containerPath for rules without a target). */
export interface PathMapping {
  hostPath: string;
  containerPath?: string;
}

export interface CompiledRule {
  service: string;
  /** the rule's index in the service's develop.watch (sync+exec runs each rule's command once per batch) */
  index: number;
  rule: WatchRule;
  action: WatchAction;
  include: PathMatcher;
  ignore: PathMatcher;
}

export function isSyncAction(action: string): boolean {
  return action === 'sync' || action === 'sync+restart' || action === 'sync+exec';
}

/** The rule's mapping for a changed path, or null when the rule does not take it. */
export function matchRule(r: CompiledRule, hostPath: string): PathMapping | null {
  const rel = relativeUnder(r.rule.path, hostPath);
  if (rel === undefined) return null;
  // The rule's own path (a watched file) is taken whatever `include` says: the user named it.
  if (rel !== '.' && !r.include.matches(hostPath)) return null;
  if (r.ignore.matches(hostPath)) return null;
  if (r.rule.target === undefined || r.rule.target === '') return { hostPath };
  return { hostPath, containerPath: rel === '.' ? r.rule.target : posix.join(r.rule.target, rel) };
}

/** Whether the host path lies under the source of one of the service's bind mounts. */
export function boundByVolume(service: Service, hostPath: string): boolean {
  return (service.volumes ?? []).some((v) => v.type === 'bind' && v.source !== undefined && relativeUnder(v.source, hostPath) !== undefined);
}

export interface CompiledWatch {
  rules: CompiledRule[];
  /** the host paths to follow (files or directories), in rule order, each once */
  paths: string[];
  /** what the user is told (rules skipped because a bind mount already shares their path) */
  warnings: string[];
}

/**
 * Checks and compiles the rules of the given services, before anything is started. The errors are
 * Compose's: a rebuild rule needs a build section, sync+exec needs a command, a path must exist
 * (Compose would follow the nearest existing parent; Berth says so instead, since a mistyped path
 * otherwise watches nothing without a word). No rule at all is Compose's "none of the selected
 * services is configured for watch".
 */
export async function compileWatch(project: Project, services: readonly string[]): Promise<CompiledWatch> {
  const out: CompiledWatch = { rules: [], paths: [], warnings: [] };
  for (const name of services) {
    const service = project.services[name];
    const develop = service?.develop;
    if (!service || !develop) continue;
    const dockerignore = await loadDockerignore(service.build);
    develop.watch.forEach((rule, index) => {
      if (!ACTIONS.includes(rule.action)) throw new ComposeError(`services.${name}.develop.watch[${index}].action: invalid watch action ${JSON.stringify(rule.action)}`);
      if (!rule.path) throw new ComposeError('watch rules MUST define a path');
      if (rule.action === 'rebuild' && !service.build) throw new ComposeError(`can't watch service "${name}" with action rebuild without a build context`);
      if (rule.action === 'sync+exec' && !(rule.exec?.command?.length)) throw new ComposeError(`can't watch with action "sync+exec" on service ${name} without a command`);
    });
    for (const [index, rule] of develop.watch.entries()) {
      try {
        await stat(rule.path);
      } catch {
        throw new ComposeError(`service "${name}": develop.watch path ${rule.path} does not exist`);
      }
      if (isSyncAction(rule.action) && boundByVolume(service, rule.path)) {
        out.warnings.push(`path '${rule.path}' also declared by a bind mount volume, this path won't be monitored!`);
        continue;
      }
      out.rules.push({
        service: name,
        index,
        rule,
        action: rule.action as WatchAction,
        include: rule.include?.length ? patternMatcher(rule.path, rule.include, 'include') : ANY_MATCH,
        ignore: anyOf(dockerignore, EPHEMERAL, patternMatcher(rule.path, rule.ignore ?? [], 'ignore')),
      });
      if (!out.paths.includes(rule.path)) out.paths.push(rule.path);
    }
  }
  if (out.paths.length === 0) throw new ComposeError("none of the selected services is configured for watch, consider setting a 'develop' section");
  return out;
}

/** What one batch of changed paths asks for, per service (Compose's handleWatchBatch, first half). */
export interface BatchPlan {
  rebuild: string[];
  /** service → mappings to sync, in the order the changes came */
  sync: Map<string, PathMapping[]>;
  restart: string[];
  /** service → the sync+exec rules to run, each once */
  exec: Map<string, CompiledRule[]>;
}

export function planBatch(rules: readonly CompiledRule[], batch: readonly string[]): BatchPlan {
  const plan: BatchPlan = { rebuild: [], sync: new Map(), restart: [], exec: new Map() };
  const addOnce = <T>(list: T[], v: T): void => {
    if (!list.includes(v)) list.push(v);
  };
  for (const path of batch) {
    for (const r of rules) {
      const mapping = matchRule(r, path);
      if (!mapping) continue;
      if (r.action === 'rebuild') addOnce(plan.rebuild, r.service);
      if (r.action === 'restart' || r.action === 'sync+restart') addOnce(plan.restart, r.service);
      if (isSyncAction(r.action)) {
        const list = plan.sync.get(r.service) ?? [];
        list.push(mapping);
        plan.sync.set(r.service, list);
      }
      if (r.action === 'sync+exec') {
        const list = plan.exec.get(r.service) ?? [];
        addOnce(list, r);
        plan.exec.set(r.service, list);
      }
    }
  }
  return plan;
}
