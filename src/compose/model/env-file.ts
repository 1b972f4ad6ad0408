// Reads a service's `env_file:` entries for the service's environment. The syntax is the
// loader's dotenv (load/env-file.ts, the same as the project's .env); what is the service's own
// here is `required:` and the error for a missing file.

import { readFileSync } from 'node:fs';
import { parseDotEnv } from './load/env-file.ts';
import { ComposeError } from './types.ts';

/** Reads one env file; a missing file is an error only when it is required. */
export function readEnvFile(path: string, required: boolean, lookup: (key: string) => string | undefined): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ComposeError(`env file ${path} not found: stat ${path}: no such file or directory`);
  }
  return parseDotEnv(text, lookup);
}
