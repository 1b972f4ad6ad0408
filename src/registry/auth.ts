// Who may do what. Two modes, both backed by an htpasswd file of bcrypt hashes:
//  - basic: every /v2/ request carries HTTP Basic credentials checked against htpasswd;
//  - token: clients fetch a bearer token from /token (Basic credentials, or none when there is no
//    htpasswd) for the scopes they need; /v2/ requests carry `Authorization: Bearer <token>`.
//    Tokens are `base64url(claims).base64url(HMAC-SHA256)` with a key made at start-up, so they
//    die with the process. Claims carry the granted scopes in the Docker token format
//    (`access: [{type, name, actions}]`).
// Credentials and tokens are never logged. bcrypt is slow on purpose, so a verified password is
// remembered for a while by a SHA-256 of user, password and hash — not the password itself.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { RegistryError } from './errors.ts';

export const REALM = 'berth-registry';
export const SERVICE = 'berth-registry';
const TOKEN_TTL_S = 300;
const VERIFIED_TTL_MS = 5 * 60_000;

export interface Access { type: string; name: string; actions: string[] }

/** What a route needs: the repository (or registry:catalog) and the action. */
export interface Need { type: 'repository' | 'registry'; name: string; action: string }

export class Htpasswd {
  private users = new Map<string, string>();
  private verified = new Map<string, number>();

  static async load(path: string): Promise<Htpasswd> {
    const h = new Htpasswd();
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const i = t.indexOf(':');
      if (i <= 0) continue;
      const hash = t.slice(i + 1);
      // Only bcrypt is accepted, as in the CNCF registry. $2y$ (htpasswd -B) is the same algorithm as $2b$.
      if (/^\$2[aby]\$/.test(hash)) h.users.set(t.slice(0, i), hash.replace(/^\$2y\$/, '$2b$'));
    }
    return h;
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    const until = this.verified.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) {
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.set(key, Date.now() + VERIFIED_TTL_MS);
    }
    return ok;
  }
}

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

/** Parses `repository:<name>:<a,b>` / `registry:catalog:*` scope strings (several may be space-separated). */
export function parseScopes(scopes: string[]): Access[] {
  const out: Access[] = [];
  for (const s of scopes.flatMap((x) => x.split(' ')).filter(Boolean)) {
    const first = s.indexOf(':');
    const last = s.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    out.push({ type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) });
  }
  return out;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenIssuer {
  private key = randomBytes(32);

  issue(subject: string, access: Access[]): { token: string; expiresIn: number; issuedAt: string } {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: REALM, sub: subject, aud: SERVICE, iat: now, nbf: now - 5, exp: now + TOKEN_TTL_S, jti: randomBytes(8).toString('hex'), access };
    const body = b64url(JSON.stringify(claims));
    return { token: `${body}.${b64url(this.sign(body))}`, expiresIn: TOKEN_TTL_S, issuedAt: new Date(now * 1000).toISOString() };
  }

  /** The token's grants if it is ours, intact and not expired. */
  verify(token: string): Access[] | undefined {
    const [body, sig, extra] = token.split('.');
    if (!body || !sig || extra !== undefined) return undefined;
    const want = this.sign(body);
    const got = Buffer.from(sig, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { exp: number; aud: string; access: Access[] };
      if (c.aud !== SERVICE || c.exp < Date.now() / 1000) return undefined;
      return c.access;
    } catch {
      return undefined;
    }
  }

  private sign(body: string): Buffer { return createHmac('sha256', this.key).update(body).digest(); }
}

/** Whether a token's grants cover a need; a grant of push (or *) also covers delete. */
export const allows = (grants: Access[], need: Need): boolean =>
  grants.some((g) => g.type === need.type && g.name === need.name && (g.actions.includes(need.action) || g.actions.includes('*')
    || (need.action === 'delete' && g.actions.includes('push'))));

export function unauthorized(challenge: string, message = 'authentication required', detail?: unknown): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { detail, headers: { 'WWW-Authenticate': challenge } });
}

export const basicChallenge = `Basic realm="${REALM}"`;

export function bearerChallenge(realmUrl: string, need?: Need, error?: string): string {
  let c = `Bearer realm="${realmUrl}",service="${SERVICE}"`;
  if (need) c += need.type === 'repository' ? `,scope="repository:${need.name}:pull,push"` : `,scope="registry:catalog:*"`;
  if (error) c += `,error="${error}"`;
  return c;
}
