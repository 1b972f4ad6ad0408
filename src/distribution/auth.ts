// Registry auth: the WWW-Authenticate challenge a registry answers /v2/ with, HTTP Basic
// credentials, and the bearer-token flow (docker/distribution token spec): GET <realm>?service=
// &scope= with Basic credentials (or none, for anonymous pulls) → {"token"|"access_token"}.
// Credentials and tokens are never logged or put into error messages.
import type { Agent } from 'undici';
import { httpRequest as request } from './http.ts';
import { Unauthorized, Unavailable } from '../errors.ts';
import type { AuthConfig } from '../types/auth-config.ts';

export interface Challenge { scheme: 'basic' | 'bearer'; params: Record<string, string> }

/** The first Bearer or Basic challenge of a WWW-Authenticate header (RFC 7235 auth-params). */
export function parseChallenges(header: string): Challenge | null {
  const found: Challenge[] = [];
  const re = /([A-Za-z]+)\s+((?:[A-Za-z0-9_-]+=(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'basic' && scheme !== 'bearer') continue;
    const params: Record<string, string> = {};
    for (const p of m[2]!.matchAll(/([A-Za-z0-9_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
    }
    found.push({ scheme, params });
  }
  return found.find((c) => c.scheme === 'bearer') ?? found[0] ?? null;
}

/** username:password from either the explicit fields or the `auth` field. */
export function credentials(a: AuthConfig | undefined): { username: string; password: string } | undefined {
  if (!a) return undefined;
  if (a.username) return { username: a.username, password: a.password ?? '' };
  if (a.auth) {
    const s = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  return undefined;
}

export function basicHeader(a: AuthConfig | undefined): string {
  const c = credentials(a);
  return `Basic ${Buffer.from(`${c?.username ?? ''}:${c?.password ?? ''}`).toString('base64')}`;
}

/** A bearer token for `scope` (space-separated scopes; empty for a login check). */
export async function fetchToken(ch: Challenge, scope: string, auth: AuthConfig | undefined, agent: Agent): Promise<string> {
  const realm = ch.params.realm;
  if (!realm) throw new Unauthorized('registry asked for a bearer token without a realm');
  const url = new URL(realm);
  if (ch.params.service) url.searchParams.set('service', ch.params.service);
  for (const s of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
  const creds = credentials(auth);
  const headers: Record<string, string> = { 'user-agent': 'berth' };
  if (creds) headers.authorization = basicHeader(auth);
  let res;
  try {
    if (auth?.identitytoken) {
      // An OAuth2 refresh token from an earlier login (docker/distribution oauth flow).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: auth.identitytoken, service: ch.params.service ?? '', scope, client_id: 'berth' });
      res = await request(realm, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'berth' }, body: form.toString() });
    } else {
      res = await request(url, { method: 'GET', dispatcher: agent, headers });
    }
  } catch (err) {
    throw new Unavailable(`Get "${url.origin}${url.pathname}": ${(err as Error).message}`);
  }
  if (res.statusCode === 401 || res.statusCode === 403) {
    await res.body.dump();
    throw new Unauthorized(`${creds ? 'incorrect username or password' : 'authentication required'}`);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Unavailable(`token server ${url.origin}${url.pathname} answered ${res.statusCode}`);
  }
  const body = (await res.body.json().catch(() => ({}))) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Unauthorized('token server gave no token');
  return token;
}
