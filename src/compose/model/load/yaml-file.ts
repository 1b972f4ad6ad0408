// Reading one Compose file's YAML into plain values. Anchors, aliases and merge keys (`<<`) are
// resolved by the `yaml` package; the two Compose tags are kept as markers for merge.ts:
// `!reset` (drop whatever earlier files or an extended service set here) and `!override`
// (replace instead of merging). A leading-zero integer is octal, as Go's yaml.v3 reads it, so a
// secret's `mode: 0440` means what its author meant.
import YAML from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ComposeError } from '../types.ts';

/** The value of a `!reset` node: merge removes the key (or drops the item). */
export const RESET: unique symbol = Symbol('compose !reset');

/** The value of a `!override` node: merge replaces the earlier value with `value` as it is. */
export class Override {
  value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

const octalInt = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^0[0-7]+$/,
  identify: (): boolean => false,
  resolve: (s: string): number => parseInt(s, 8),
};

/**
 * Parses `text` (the contents of `file`) into its documents' top-level mappings: a file may hold
 * several `---` documents, which Compose merges in order. An empty document is an empty mapping.
 * A syntax error becomes Compose's one line: `failed to parse <file>: yaml: line N: <message>`.
 */
export function parseComposeYamlDocuments(text: string, file: string): Record<string, unknown>[] {
  const parsed = YAML.parseAllDocuments(text, {
    merge: true,
    uniqueKeys: true,
    customTags: (tags) => [octalInt, ...tags, { tag: '!reset', resolve: (s: string) => s }, { tag: '!override', resolve: (s: string) => s }],
  });
  const docs = Array.isArray(parsed) ? parsed : [];
  const out: Record<string, unknown>[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0].line;
      const message = err.message.split(' at line ')[0].split('\n')[0];
      throw new ComposeError(`failed to parse ${file}: yaml: ${line !== undefined ? `line ${line}: ` : ''}${message}`);
    }
    YAML.visit(doc, {
      Node(_key, node) {
        const tag = (node as YamlNode).tag;
        if (tag === '!reset') return new YAML.Scalar(RESET);
        if (tag === '!override') return new YAML.Scalar(new Override((node as YamlNode).toJS(doc)));
        return undefined;
      },
    });
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 10000 });
    } catch (e) {
      throw new ComposeError(`failed to parse ${file}: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
    if (value === null || value === undefined) {
      out.push({});
      continue;
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw new ComposeError('top-level object must be a mapping');
    out.push(value as Record<string, unknown>);
  }
  return out.length > 0 ? out : [{}];
}

/** A file holding one document (tests, and files read for extends' first document). */
export function parseComposeYaml(text: string, file: string): Record<string, unknown> {
  return parseComposeYamlDocuments(text, file)[0];
}

/** A plain mapping (not a list, not a marker). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Override);
}
