// Printing lists and inspect results as the Docker CLI does. STUB: the format helper replaces the
// bodies; the signatures are what commands use.
import { table } from '../tabwriter.ts';

export interface ListOptions {
  /** the --format value: '' or undefined (default table), 'table', 'table TEMPLATE', 'json', or a template */
  format?: string;
  /** -q: print only quietField of each row */
  quiet?: boolean;
  /** the table used when no --format is given: 'table {{.ID}}\t{{.Image}}…' */
  defaultFormat: string;
  /** the field -q prints, e.g. 'ID' */
  quietField?: string;
  /** column headers by field name, e.g. { ID: 'CONTAINER ID', Names: 'NAMES' } */
  headers: Record<string, string>;
}

/**
 * Rows are "format contexts": plain objects whose enumerable properties are what `{{json .}}`
 * prints, and whose fields (or function-valued, non-enumerable properties such as
 * `Label "key"`) templates read.
 */
export function formatList(rows: object[], o: ListOptions): string {
  if (o.quiet) return rows.map((r) => `${String((r as Record<string, unknown>)[o.quietField ?? 'ID'])}\n`).join('');
  const fields = [...(o.defaultFormat.matchAll(/\{\{\.(\w+)\}\}/g))].map((m) => m[1]!);
  return table([fields.map((f) => o.headers[f] ?? f), ...rows.map((r) => fields.map((f) => String((r as Record<string, unknown>)[f] ?? '')))]);
}

/** `inspect`: a JSON array indented by 4 like docker's, or the template applied to each object. */
export function formatInspect(objs: unknown[], format?: string): string {
  if (format) throw new Error('--format not yet');
  return `${JSON.stringify(objs, null, 4)}\n`;
}
