// Printing lists and inspect results as the Docker CLI does (cli/command/formatter and
// cli/command/inspect): Go templates over "format contexts", tables through docker's tabwriter.
import { CliError } from '../command.ts';
import { tabwrite } from '../tabwriter.ts';
import { TemplateError, goJson, parseDocker, HEADER_FUNCS, DOCKER_FUNCS, Template as TemplateClass, type Template } from './template.ts';

export interface ListOptions {
  /** the --format value: '' or undefined (default table), 'table', 'table TEMPLATE', 'json', or a template */
  format?: string;
  /** -q: print only quietField of each row (when no custom format is given) */
  quiet?: boolean;
  /** the table used when no --format is given: 'table {{.ID}}\t{{.Image}}…' */
  defaultFormat: string;
  /** the field -q prints, e.g. 'ID' */
  quietField?: string;
  /** column headers by field name, e.g. { ID: 'CONTAINER ID', Names: 'NAMES' } */
  headers: Record<string, string>;
  /** the Go type docker names when a template reads a field rows lack, e.g. '*formatter.ContainerContext' */
  typeName?: string;
  /** `docker ps` words its errors "failed to parse template: …" / "failed to execute template: …" */
  errorPrefix?: { parse: string; exec: string };
}

const DEFAULT_PREFIX = { parse: 'template parsing error: ', exec: 'template parsing error: ' };

/** Format.templateString: drop "table", trim spaces, and turn the two characters `\t`, `\n` into real ones. */
export function templateString(format: string): string {
  if (format === 'json') return '{{json .}}';
  let s = format.startsWith('table') ? format.slice(5) : format;
  s = s.replace(/^ +| +$/g, '');
  return s.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/** The table header context: header names by field, and docker's `Label "a.b-c"` → "b c". */
function headerContext(headers: Record<string, string>): object {
  const h = { ...headers };
  Object.defineProperty(h, 'Label', {
    value: (name: string) => (name.split('.').pop() ?? '').replace(/[-_]/g, ' '),
    enumerable: false,
  });
  return h;
}

function parseOrThrow(src: string, prefix: string, status: number): Template {
  try { return parseDocker(src); } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`${prefix}${e.message}`, status);
    throw e;
  }
}

/**
 * Rows are "format contexts": plain objects whose enumerable properties are what `{{json .}}`
 * prints (sorted, HTML-escaped as docker's MarshalJSON does), and whose fields (or
 * function-valued, non-enumerable properties such as `Label "key"`) templates read.
 */
export function formatList(rows: object[], o: ListOptions): string {
  let format = o.format ?? '';
  if (format === '' || format === 'table') {
    if (o.quiet) return rows.map((r) => `${String((r as Record<string, unknown>)[o.quietField ?? 'ID'] ?? '')}\n`).join('');
    format = o.defaultFormat;
  }
  const prefix = o.errorPrefix ?? DEFAULT_PREFIX;
  const tmpl = parseOrThrow(templateString(format), prefix.parse, 1);
  let body = '';
  for (const row of rows) {
    try {
      body += `${tmpl.execute(row, {
        rootType: o.typeName ?? '*formatter.Context',
        methods: true,
        funcs: { json: (v: unknown) => goJson(v, v === row, v === row) },
      })}\n`;
    } catch (e) {
      if (e instanceof TemplateError) throw new CliError(`${prefix.exec}${e.message}`, 1);
      throw e;
    }
  }
  if (!format.startsWith('table')) return body;
  let header: string;
  try { header = tmpl.execute(headerContext(o.headers), { funcs: HEADER_FUNCS }); } catch (e) {
    // docker ignores header errors and keeps what was printed
    if (!(e instanceof TemplateError)) throw e;
    header = e.partial;
  }
  return tabwrite(`${header}\n${body}`);
}

export interface InspectResult {
  /** stdout: the objects, or "\n" when a template printed nothing */
  out: string;
  /** stderr message (template errors joined by newlines) when status is not 0 */
  error?: string;
  status: number;
}

export interface InspectTypes {
  /** the Go struct type of a nested object (undefined: a map), e.g. a network's IPAM → 'network.IPAM' */
  structType?: (v: object) => string | undefined;
  /**
   * docker's TemplateInspector with the raw reply: a template that fails on the typed struct is
   * run again on the raw JSON (missingkey=error), and that run's output or error is the result.
   */
  rawFallback?: boolean;
}

/**
 * docker inspect's printing of objects found: no format → the JSON array indented by 4
 * (`[]` when empty); `json` → the array compacted; a template → one line per object. Template
 * errors are collected (status 1) while the other objects still print; a template that does not
 * parse is status 64. Without `typeName` objects are raw JSON maps (docker's fallback: a
 * missing key is an error, `map has no entry for key "X"`); with it they are that Go struct.
 */
export function renderInspect(objs: unknown[], format?: string, typeName?: string, types: InspectTypes = {}): InspectResult {
  if (!format) return { out: `${JSON.stringify(objs, null, 4)}\n`, status: 0 };
  if (format === 'json') return { out: `${JSON.stringify(objs)}\n`, status: 0 };
  let tmpl: Template;
  try { tmpl = parseDocker(format); } catch (e) {
    if (e instanceof TemplateError) return { out: '', error: `template parsing error: ${e.message}`, status: 64 };
    throw e;
  }
  let out = '';
  const errors: string[] = [];
  const raw = { missingKey: 'error' as const };
  for (const obj of objs) {
    try {
      if (!typeName) out += `${tmpl.execute(obj, raw)}\n`;
      else {
        try { out += `${tmpl.execute(obj, { rootType: typeName, structType: types.structType })}\n`; } catch (e) {
          if (!(e instanceof TemplateError) || !types.rawFallback) throw e;
          out += `${tmpl.execute(obj, raw)}\n`;
        }
      }
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errors.push(`template parsing error: ${e.message}`);
    }
  }
  return { out: out || '\n', error: errors.length ? errors.join('\n') : undefined, status: errors.length ? 1 : 0 };
}

/** `inspect`: renderInspect's output; template errors throw a CliError (prefer renderInspect to also print the rest). */
export function formatInspect(objs: unknown[], format?: string, typeName?: string): string {
  const r = renderInspect(objs, format, typeName);
  if (r.status) throw new CliError(r.error ?? '', r.status);
  return r.out;
}

/** `docker ps`'s error wording for --format templates. */
export const PS_ERROR_PREFIX = { parse: 'failed to parse template: ', exec: 'failed to execute template: ' };

/**
 * `docker ps` checks any --format before listing: it parses the raw value (a "table " prefix is
 * just text then) and runs it on an empty row, so a bad field fails even with no containers.
 * Returns the fields the template reads, so the caller can ask for sizes only when `.Size` is used.
 */
export function checkListTemplate(format: string, emptyRow: object, typeName: string, prefix = PS_ERROR_PREFIX): Set<string> {
  const tmpl = parseOrThrow(format, prefix.parse, 1);
  const used = new Set<string>();
  const probe = new Proxy(emptyRow, {
    get(t, k, r) { if (typeof k === 'string') used.add(k); return Reflect.get(t, k, r); },
    getOwnPropertyDescriptor(t, k) { if (typeof k === 'string') used.add(k); return Reflect.getOwnPropertyDescriptor(t, k); },
  });
  try { tmpl.execute(probe, { rootType: typeName, methods: true }); } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`${prefix.exec}${e.message}`, 1);
    throw e;
  }
  return used;
}

/**
 * One template run on one value, for commands that format a single object (`version`, `info`,
 * `system df -v`…): `out` is what was printed (up to the error), `error` Go's message as is,
 * e.g. `template: version:1:2: executing "version" at <.Nope>: can't evaluate field Nope in type system.versionInfo`.
 * A template that does not parse gives `parseError` (the caller adds docker's prefix).
 */
export function execTemplate(format: string, data: unknown, o: { name?: string; typeName?: string; structType?: (v: object) => string | undefined } = {}): { out: string; error?: string; parseError?: string } {
  let tmpl: Template;
  try { tmpl = new TemplateClass(format, DOCKER_FUNCS, o.name ?? ''); } catch (e) {
    if (e instanceof TemplateError) return { out: '', parseError: e.message };
    throw e;
  }
  try { return { out: tmpl.execute(data, { rootType: o.typeName, structType: o.structType }) }; } catch (e) {
    if (e instanceof TemplateError) return { out: e.partial, error: e.message };
    throw e;
  }
}
