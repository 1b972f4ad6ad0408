// The loader's entry: from the global flags (LoadOptions) to the merged raw document
// (RawProject). The order is Compose v2's:
//   1. the environment: the process environment over .env (or the --env-file files, in order),
//      read once from the directory known before the files (to see COMPOSE_FILE and friends),
//      then again from the project directory once the files are known;
//   2. the files (find-files.ts), the project directory (--project-directory, else the first
//      file's directory);
//   3. each file (each of its documents): parse, interpolate, import includes, resolve extends;
//      then merge them in order (merge.ts) and make list entries unique;
//   4. the project name (project-name.ts).
// Warnings (unset variables, several default files) are returned for the CLI to print; nothing
// here writes to the terminal.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ComposeError, type LoadOptions, type RawProject } from '../types.ts';
import { overlayEnvironment, readEnvFiles } from './env-file.ts';
import { applyExtends } from './extends.ts';
import { findComposeFiles } from './find-files.ts';
import { applyInclude } from './include.ts';
import { interpolateDocument } from './interpolate.ts';
import { enforceUnique, mergeDocuments, stripMarkers } from './merge.ts';
import { invalidProjectName, normalizeProjectName, projectName } from './project-name.ts';
import { parseComposeYamlDocuments } from './yaml-file.ts';

type Dict = Record<string, unknown>;

/** A RawProject and the warnings Compose would have logged while loading it. */
export interface LoadedRawProject extends RawProject {
  warnings: string[];
}

async function dotEnv(opts: LoadOptions, workingDir: string): Promise<Record<string, string>> {
  if (opts.envFiles.length > 0) return readEnvFiles(opts.envFiles, opts.env, opts.cwd);
  const dflt = join(workingDir, '.env');
  const isFile = await stat(dflt).then((s) => s.isFile(), () => false);
  return isFile ? readEnvFiles([dflt], opts.env, opts.cwd) : {};
}

async function readText(file: string, opts: LoadOptions): Promise<string> {
  if (file === '-') {
    if (!opts.stdin) throw new ComposeError('cannot read the Compose file from stdin');
    return opts.stdin();
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ComposeError(`open ${file}: no such file or directory`);
    if (code === 'EISDIR') throw new ComposeError(`read ${file}: is a directory`);
    if (code === 'EACCES') throw new ComposeError(`open ${file}: permission denied`);
    throw e;
  }
}

/** Reads, parses and interpolates the files, resolves extends and includes, merges them. */
export async function loadRawProject(opts: LoadOptions): Promise<LoadedRawProject> {
  const warnings: string[] = [];
  // a bad -p is refused before any file is read, as Compose's WithName does
  if (opts.projectName && normalizeProjectName(opts.projectName) !== opts.projectName) throw invalidProjectName(opts.projectName);
  const projectDirFlag = opts.projectDirectory ? resolve(opts.cwd, opts.projectDirectory) : undefined;
  const firstFlagFile = opts.files.find((f) => f !== '-');
  const earlyDir = projectDirFlag ?? (firstFlagFile ? dirname(resolve(opts.cwd, firstFlagFile)) : opts.cwd);
  const earlyEnv = overlayEnvironment(opts.env, await dotEnv(opts, earlyDir));

  const found = await findComposeFiles({ files: opts.files, env: earlyEnv, cwd: opts.cwd, startDir: projectDirFlag ?? opts.cwd });
  warnings.push(...found.warnings);
  const firstFile = found.files.find((f) => f !== '-');
  const workingDir = projectDirFlag ?? (firstFile ? dirname(firstFile) : opts.cwd);
  const environment = workingDir === earlyDir ? earlyEnv : overlayEnvironment(opts.env, await dotEnv(opts, workingDir));

  // Each document of each file: interpolate, import includes (first, so that a service may extend
  // an included one, as compose-go does), resolve extends, then merge onto what came before.
  const parseFile = async (file: string, env: Record<string, string>): Promise<Dict[]> => {
    const docs = parseComposeYamlDocuments(await readText(file, opts), file);
    return docs.map((d) => {
      const doc = interpolateDocument(d, env, warnings);
      if (doc.version !== undefined) {
        warnings.push(`${file}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
        delete doc.version;
      }
      return doc;
    });
  };

  // files read for extends, once each per load: their documents merged, includes not applied
  const cache = new Map<string, Promise<Dict>>();
  const readDocument = (file: string, env: Record<string, string>): Promise<Dict> => {
    const key = `${file}\0${JSON.stringify(env)}`;
    let p = cache.get(key);
    if (!p) {
      p = parseFile(file, env).then((docs) => docs.reduce((acc, d) => mergeDocuments(acc, d), {}));
      cache.set(key, p);
    }
    return p;
  };

  const loadProject = async (files: string[], projectDir: string, env: Record<string, string>, chain: string[]): Promise<Dict> => {
    let acc: Dict = {};
    for (const file of files) {
      for (let doc of await parseFile(file, env)) {
        doc = await applyInclude(doc, { baseDir: projectDir, env, chain: [...chain, file].filter((f, i, a) => a.indexOf(f) === i), loadProject });
        doc = await applyExtends(doc, { file, baseDir: projectDir, readDocument: (f) => readDocument(f, env) });
        acc = enforceUnique(mergeDocuments(acc, doc)) as Dict;
      }
    }
    return stripMarkers(acc) as Dict;
  };

  const dict = await loadProject(found.files, workingDir, environment, []);
  const name = projectName({ flag: opts.projectName, env: environment, fromFile: dict.name, workingDir });
  return { name, workingDir, configFiles: found.files, environment, dict, warnings };
}
