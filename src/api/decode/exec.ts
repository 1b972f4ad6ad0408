// The bodies of `POST /containers/{id}/exec` (ExecConfig) and `POST /exec/{id}/start`
// (ExecStartCheck), decoded as dockerd's Go decoder does.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { InvalidParameter } from '../../errors.ts';
import { execConfig } from '../../types/go-wire-types.ts';
import { readGoJson } from '../respond.ts';
import { decode, strSlice } from './zod.ts';

export const execConfigSchema = z.object({
  AttachStdin: z.boolean().nullish(),
  AttachStdout: z.boolean().nullish(),
  AttachStderr: z.boolean().nullish(),
  DetachKeys: z.string().nullish(),
  Tty: z.boolean().nullish(),
  ConsoleSize: z.array(z.number().int()).nullish(),
  Env: z.array(z.string()).nullish(),
  Cmd: strSlice,
  Privileged: z.boolean().nullish(),
  User: z.string().nullish(),
  WorkingDir: z.string().nullish(),
}).loose();
export type ExecConfigInput = z.infer<typeof execConfigSchema>;

export const execStartSchema = z.object({
  Detach: z.boolean().nullish(),
  Tty: z.boolean().nullish(),
  ConsoleSize: z.array(z.number().int()).nullish(),
}).loose();
export type ExecStartInput = z.infer<typeof execStartSchema>;

/** The JSON type name Go's decoder puts into 'cannot unmarshal X into …'. */
function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'array' : 'object';
}

export function decodeExecConfig(body: unknown): ExecConfigInput {
  // moby's ExecConfig.Cmd is a plain []string (not a strslice like a container's Cmd), so Go's
  // decoder refuses a string there.
  const cmd = (body as { Cmd?: unknown } | null)?.Cmd;
  if (cmd !== undefined && cmd !== null && !Array.isArray(cmd)) {
    throw new InvalidParameter(`json: cannot unmarshal ${jsonKind(cmd)} into Go struct field ExecConfig.Cmd of type []string`);
  }
  return decode(execConfigSchema, body, 'ExecConfig');
}

export async function readExecConfig(req: IncomingMessage): Promise<ExecConfigInput> {
  return decodeExecConfig(await readGoJson(req, execConfig, 'got-eof') ?? {});
}

export function decodeExecStart(body: unknown): ExecStartInput {
  return decode(execStartSchema, body, 'ExecStartCheck');
}
