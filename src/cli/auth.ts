// Registry credentials as the Docker CLI keeps them: config.json in the config directory with
// `auths` entries (base64 "user:password" under the registry's host, Docker Hub under
// https://index.docker.io/v1/), sent to the daemon as X-Registry-Auth (base64url JSON), so a
// `docker login` is good for `berth push` and the other way round.
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Ctx } from './command.ts';
import { parseReference } from '../image/reference.ts';

/** Docker Hub's key in config.json (registry.IndexServer). */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

export interface AuthConfig { username?: string; password?: string; auth?: string; email?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string }

type ConfigFile = Record<string, unknown> & { auths?: Record<string, AuthConfig> };

export const configPath = (ctx: Ctx): string => join(ctx.configDir, 'config.json');

/** config.json as an object ({} when missing or unreadable, as the Docker CLI treats it). */
export function readConfig(ctx: Ctx): ConfigFile {
  try {
    const v = JSON.parse(readFileSync(configPath(ctx), 'utf8')) as unknown;
    return v && typeof v === 'object' ? v as ConfigFile : {};
  } catch {
    return {};
  }
}

/** Writes config.json as the Docker CLI does (tab-indented, through a temp file and a rename). */
export async function writeConfig(ctx: Ctx, cfg: ConfigFile): Promise<void> {
  const path = configPath(ctx);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(cfg, null, '\t'), { mode: 0o600 });
  await rename(tmp, path);
}

/** credentials.ConvertToHostname: `https://host:5000/v2/` → `host:5000`. */
export function convertToHostname(url: string): string {
  const s = url.replace(/^https?:\/\//, '');
  return s.split('/')[0] ?? s;
}

/** The config key of an image's registry: the host, or Docker Hub's index address. */
export function registryKey(image: string): string {
  let domain: string;
  try {
    domain = parseReference(image).domain;
  } catch {
    domain = 'docker.io';
  }
  return domain === 'docker.io' ? INDEX_SERVER : domain;
}

/** The stored credentials for a registry key (configfile's fileStore.Get), with user and password decoded. */
export function storedAuth(ctx: Ctx, key: string): AuthConfig {
  const auths = readConfig(ctx).auths ?? {};
  let found: [string, AuthConfig] | undefined = auths[key] ? [key, auths[key]] : undefined;
  // Older files keep keys with a scheme or path: they match by host.
  found ??= Object.entries(auths).find(([k]) => convertToHostname(k) === key);
  if (!found) return {};
  const [addr, entry] = found;
  const out: AuthConfig = { ...entry, serveraddress: addr };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) {
      out.username = plain.slice(0, i);
      out.password = plain.slice(i + 1);
    }
    delete out.auth;
  }
  return out;
}

/** registrytypes.EncodeAuthConfig: base64url of the JSON, empty fields left out. */
export function encodeAuth(a: AuthConfig): string {
  const keys = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const;
  const o: Record<string, string> = {};
  for (const k of keys) if (a[k]) o[k] = a[k]!;
  return base64url(JSON.stringify(o));
}

/** Go's base64.URLEncoding: the URL alphabet, with padding. */
const base64url = (s: string): string => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The X-Registry-Auth header value for the registry of `image` (base64url JSON). Like the Docker
 * CLI it is sent even without credentials (`{}`), which the daemon reads as anonymous.
 */
export function registryAuthHeader(ctx: Ctx, image: string): string | undefined {
  return encodeAuth(storedAuth(ctx, registryKey(image)));
}

/** X-Registry-Config for builds: every stored credential by registry, as the legacy builder sends. */
export function registryConfigHeader(ctx: Ctx): string {
  const all: Record<string, AuthConfig> = {};
  for (const key of Object.keys(readConfig(ctx).auths ?? {})) {
    const a = storedAuth(ctx, key);
    const o: AuthConfig = {};
    for (const [k, v] of Object.entries(a)) if (v) o[k as keyof AuthConfig] = v;
    all[key] = o;
  }
  return base64url(JSON.stringify(all));
}
