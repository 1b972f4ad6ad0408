// The loop every inspect command shares (docker's inspect.Inspect): a template that does not
// parse fails before anything is fetched (status 64); each name is fetched and, with a template,
// printed on its own — run on docker's typed view of the object when it has one — its template
// error taking its place among the daemon's errors in argument order. stdout gets what printed
// (`\n` when a template printed nothing, `[]` for JSON), stderr the errors, status 1 with any.
import { CliError, describeError, type Ctx } from '../command.ts';
import { renderInspect, type InspectTypes } from '../format/list.ts';

export interface TemplateView { obj: unknown; typeName?: string; types?: InspectTypes }

export async function inspectEach(ctx: Ctx, names: string[], format: string | undefined, get: (n: string) => Promise<unknown>,
  view: (obj: unknown) => TemplateView = (obj) => ({ obj })): Promise<number> {
  const perObject = !!format && format !== 'json';
  if (perObject) {
    const parsed = renderInspect([], format);
    if (parsed.status === 64) throw new CliError(parsed.error ?? '', 64);
  }
  const found: unknown[] = [];
  const errors: string[] = [];
  let out = '';
  for (const n of names) {
    let obj: unknown;
    try {
      obj = await get(n);
    } catch (err) {
      errors.push(describeError(err));
      continue;
    }
    if (!perObject) {
      found.push(obj);
      continue;
    }
    const v = view(obj);
    const r = renderInspect([v.obj], format, v.typeName, v.types);
    if (r.status) errors.push(r.error ?? '');
    else out += r.out;
  }
  ctx.out.write(perObject ? out || '\n' : renderInspect(found, format || undefined).out);
  if (errors.length) {
    ctx.err.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}
