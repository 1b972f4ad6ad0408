// Generates src/types/engine-api.ts, the typed model of the Docker Engine API, from the Swagger 2.0
// spec moby publishes (shared/spec/docker-engine-api.yaml), so that api/, engine/, client/ and
// cli/ share one set of wire types instead of each declaring its own view of a response.
//
//   node scripts/gen-engine-api.ts [spec.yaml] [out.ts]
//
// Defaults: ../shared/spec/docker-engine-api.yaml (relative to the repository) and
// src/types/engine-api.ts. The output is a pure function of the spec (spec order, no dates), so
// test/unit/types/engine-api.test.ts can regenerate it and fail when the checked-in file is stale.
//
// Mapping (kept deliberately small; a type the spec gets wrong is widened where it is used):
//   definitions          → `export interface Name` (objects with properties) or `export type Name`
//   allOf                → intersection
//   additionalProperties → Record<string, T> (or an index signature beside properties)
//   enum                 → union of literals
//   x-nullable: true     → `| null`
//   properties           → optional unless listed in `required`; an optional array or map is also
//                          `| null`, because Go marshals a nil slice or map as null (the Docker CLI
//                          sends `"Binds": null`), so request decoders must accept it
//   operations           → <OperationId>Body (JSON body), <OperationId>Query (query parameters),
//                          <OperationId>Result (the JSON schema of its 200 or 201 response)
// Binary bodies and responses (tar archives, log streams) get no type: they are streams.
//
// Why our own generator and not openapi-typescript (which STYLE.md suggested): openapi-typescript 7
// reads OpenAPI 3 only, so the Swagger 2 spec would first go through swagger2openapi (two dev
// dependency trees for a mapping this small); its output is one nested `components['schemas'][…]`
// tree of ~15k lines that would need a hand-written alias file on top to give the names used here;
// and it cannot say the one thing Berth's decoders depend on, that Go sends a nil slice or map as
// null. This script gives the Swagger names directly, one file, ~3.6k lines.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  description?: string;
  title?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  'x-nullable'?: boolean;
};

interface Parameter {
  name: string;
  in: 'query' | 'body' | 'path' | 'header' | 'formData';
  description?: string;
  required?: boolean;
  type?: string;
  enum?: (string | number)[];
  items?: Schema;
  schema?: Schema;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  responses: Record<string, { schema?: Schema }>;
}

interface Spec {
  info: { version: string };
  definitions: Record<string, Schema>;
  paths: Record<string, Record<string, Operation>>;
}

const repo = resolve(import.meta.dirname, '..');

/** The first sentence of a description, on one line, safe inside a block comment. */
function summary(d: string | undefined): string | undefined {
  if (!d) return undefined;
  const paras = d.trim().split(/\n\s*\n/);
  let para = paras[0]!.replace(/\s+/g, ' ').trim();
  // "… in the form:" is finished by the example in the next paragraph.
  const next = paras[1]?.replace(/\s+/g, ' ').trim();
  if (para.endsWith(':') && next && next.length <= 60) para = `${para} ${next}`;
  // The first stop that is not an abbreviation ("e.g.") and not inside parentheses.
  let end = para.length;
  for (const m of para.matchAll(/[.!?](?=\s|$)/g)) {
    const head = para.slice(0, m.index + 1);
    if (/\b(?:e\.g|i\.e|etc|vs)\.$/i.test(head)) continue;
    if ((head.match(/\(/g) ?? []).length > (head.match(/\)/g) ?? []).length) continue;
    end = m.index + 1;
    break;
  }
  let s = para.slice(0, end).replace(/\*\//g, '*\\/');
  if (s.length > 160) s = `${s.slice(0, 157).trimEnd()}…`;
  return s || undefined;
}

const ident = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

function literal(v: unknown): string {
  // `enum: [{}]` (ExposedPorts' values) is the empty object.
  if (typeof v === 'object' && v !== null) return 'Record<string, never>';
  return typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(v);
}

const pad = (n: number): string => '  '.repeat(n);

/** Whether Go would marshal a zero value of this schema as null (a slice or a map). */
function goNilable(s: Schema): boolean {
  if (s.$ref) return false;
  if (s.type === 'array') return true;
  return s.type === 'object' && !s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false;
}

/** A TypeScript type expression for a schema; `depth` is the indentation of the line it starts on. */
function typeOf(s: Schema | undefined, depth: number): string {
  if (!s) return 'unknown';
  let t: string;
  if (s.$ref) {
    t = s.$ref.replace(/^#\/definitions\//, '');
  } else if (s.allOf) {
    t = s.allOf.map((x) => wrap(typeOf(x, depth))).join(' & ');
  } else if (s.enum) {
    t = s.enum.map(literal).join(' | ');
  } else if (s.type === 'array') {
    t = `${wrap(typeOf(s.items, depth))}[]`;
  } else if (s.type === 'string') {
    t = 'string';
  } else if (s.type === 'integer' || s.type === 'number') {
    t = 'number';
  } else if (s.type === 'boolean') {
    t = 'boolean';
  } else if (s.properties) {
    t = objectBody(s, depth);
  } else if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    t = `Record<string, ${s.additionalProperties === true ? 'unknown' : typeOf(s.additionalProperties, depth)}>`;
  } else if (s.type === 'object') {
    // A free-form object (a Go map or struct the spec leaves open).
    t = 'Record<string, unknown>';
  } else {
    t = 'unknown';
  }
  if (s['x-nullable'] && t !== 'unknown') t = `${t} | null`;
  return t;
}

const wrap = (t: string): string => (/^[\w.]+$|^\{[\s\S]*\}$|^Record<[^<>]*>$|^[\w]+\[\]$/.test(t) ? t : `(${t})`);

function comment(d: string | undefined, depth: number): string {
  const c = summary(d);
  return c ? `${pad(depth)}/** ${c} */\n` : '';
}

/** `{ … }` for an object schema with properties; an open map beside them becomes an index signature. */
function objectBody(s: Schema, depth: number): string {
  const req = new Set(s.required ?? []);
  let out = '{\n';
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    let t = typeOf(p, depth + 1);
    if (!req.has(k) && goNilable(p) && !p['x-nullable']) t = `${t} | null`;
    out += comment(p.description, depth + 1);
    out += `${pad(depth + 1)}${ident(k)}${req.has(k) ? '' : '?'}: ${t};\n`;
  }
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    // An index signature must admit every named property's type, so it is left open.
    out += `${pad(depth + 1)}[key: string]: unknown;\n`;
  }
  return `${out}${pad(depth)}}`;
}

/** One exported declaration: an interface where the schema is a plain object, else a type alias. */
function declaration(name: string, s: Schema, description?: string): string {
  const head = comment(description ?? s.description, 0);
  if (s.properties && !s.allOf && !s.$ref && !s['x-nullable']) return `${head}export interface ${name} ${objectBody(s, 0)}\n`;
  return `${head}export type ${name} = ${typeOf(s, 0)};\n`;
}

const isStream = (s: Schema): boolean => s.type === 'file' || (s.type === 'string' && s.format === 'binary');

function queryType(params: Parameter[]): string {
  let out = '{\n';
  for (const p of params) {
    const t = p.enum ? p.enum.map(literal).join(' | ') : typeOf({ type: p.type, items: p.items }, 1);
    out += comment(p.description, 1);
    out += `  ${ident(p.name)}${p.required ? '' : '?'}: ${t};\n`;
  }
  return `${out}}`;
}

export function generate(specText: string): string {
  const spec = parse(specText) as Spec;
  const names = new Set(Object.keys(spec.definitions));
  const parts: string[] = [];
  parts.push(
    `// GENERATED FILE, DO NOT EDIT: the Docker Engine API ${spec.info.version} model, from\n` +
      '// shared/spec/docker-engine-api.yaml by scripts/gen-engine-api.ts. Regenerate with\n' +
      '//   node scripts/gen-engine-api.ts\n' +
      '// and commit the result (test/unit/types/engine-api.test.ts fails while it is stale).\n' +
      `// These are the types of API ${spec.info.version}; berthd advertises its own API version and\n` +
      '// the versions it negotiates down to, so these types are the superset: a field may be absent\n' +
      '// from an older version or from what berthd implements.\n' +
      '// Properties are optional unless the spec requires them; optional arrays and maps may be null\n' +
      '// (Go marshals nil slices and maps as null). Binary bodies and responses are streams and have\n' +
      '// no type here.\n',
  );
  parts.push('// ---- definitions ----\n');
  for (const [name, s] of Object.entries(spec.definitions)) parts.push(declaration(name, s));

  parts.push('// ---- operations: <OperationId>Body, <OperationId>Query, <OperationId>Result ----\n');
  const declare = (name: string, body: () => string): void => {
    if (names.has(name)) throw new Error(`generated name ${name} is also a definition`);
    names.add(name);
    parts.push(body());
  };
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op.operationId) continue;
      const id = op.operationId;
      const ps = op.parameters ?? [];
      const body = ps.find((p) => p.in === 'body');
      if (body?.schema && !isStream(body.schema) && body.schema.type !== 'string') {
        declare(`${id}Body`, () => declaration(`${id}Body`, body.schema!, `The body of ${method.toUpperCase()} ${path}.`));
      }
      const query = ps.filter((p) => p.in === 'query');
      if (query.length > 0) {
        declare(`${id}Query`, () => `/** The query parameters of ${method.toUpperCase()} ${path}. */\nexport interface ${id}Query ${queryType(query)}\n`);
      }
      const res = (op.responses['200'] ?? op.responses['201'])?.schema;
      if (res && !isStream(res)) {
        declare(`${id}Result`, () => declaration(`${id}Result`, res, `The response of ${method.toUpperCase()} ${path}.`));
      }
    }
  }
  return parts.join('\n');
}

if (import.meta.main) {
  // Arguments are relative to the working directory; the defaults to the repository.
  const specPath = process.argv[2] ? resolve(process.argv[2]) : resolve(repo, '../shared/spec/docker-engine-api.yaml');
  const outPath = process.argv[3] ? resolve(process.argv[3]) : resolve(repo, 'src/types/engine-api.ts');
  writeFileSync(outPath, generate(readFileSync(specPath, 'utf8')));
}
