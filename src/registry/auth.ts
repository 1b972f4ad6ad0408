// Who may do what. Two modes, both backed by an htpasswd file of bcrypt hashes:
//  - basic: every /v2/ request carries HTTP Basic credentials checked against htpasswd;
//  - token: clients fetch a bearer token from /token (Basic credentials, or none when there is no
//    htpasswd) for the scopes they need; /v2/ requests carry `Authorization: Bearer <token>`.
//    Tokens are `base64url(claims).base64url(HMAC-SHA256)` with a key made at start-up, so they
//    die with the process. Claims carry the granted scopes in the Docker token format
//    (`access: [{type, name, actions}]`).
// Credentials and tokens are never logged. bcrypt is slow on purpose: it runs in worker threads
// (bcrypt-pool.ts), failures back off (failure-limiter.ts), and a verified password is remembered
// for a short while by an HMAC under a per-process key — never the password itself.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BcryptPool } from './bcrypt-pool.ts';
import { RegistryError } from './errors.ts';
import { DEFAULT_FAILURE_LIMITS, FailureLimiter, type FailureLimits } from './failure-limiter.ts';

export const REALM = 'berth-registry';
export const SERVICE = 'berth-registry';
const TOKEN_TTL_S = 300;

export interface Access { type: string; name: string; actions: string[] }

/** What a route needs: the repository (or registry:catalog) and the action. */
export interface Need { type: 'repository' | 'registry'; name: string; action: string }

/** Limits of password checks: the failure back-off, the cache of verified passwords, the bcrypt workers. */
export interface AuthLimits extends FailureLimits {
  /** How long a verified user and password pass without bcrypt. */
  cacheTtlMs: number;
  /** Verified entries kept at most (oldest dropped). */
  cacheMax: number;
  /** bcrypt compares that may wait for a worker before callers get 429. */
  bcryptQueue: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = { ...DEFAULT_FAILURE_LIMITS, cacheTtlMs: 60_000, cacheMax: 1000, bcryptQueue: 64 };

const BCRYPT_HASH = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/**
 * The users of an htpasswd file and the checks of their passwords. One check's life:
 * cache (an HMAC of user and password under a key made at start-up, so neither the password nor
 * anything that can be tested offline against it is kept) → back-off (429 while the user or the
 * client address is blocked) → bcrypt in a worker, against the user's hash or, for an unknown
 * user, a dummy hash of the same cost, so that the answer takes as long whether the user exists or not.
 */
export class Htpasswd {
  private users = new Map<string, string>();
  private dummy = '';
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, number>();
  private readonly limiter: FailureLimiter;
  private readonly pool: BcryptPool;
  private readonly limits: AuthLimits;

  private constructor(pool: BcryptPool, limits: AuthLimits) {
    this.pool = pool;
    this.limits = limits;
    this.limiter = new FailureLimiter(limits);
  }

  static async load(path: string, limits: AuthLimits = DEFAULT_AUTH_LIMITS): Promise<Htpasswd> {
    const h = new Htpasswd(new BcryptPool({ maxQueued: limits.bcryptQueue }), limits);
    const costs = new Map<string, number>();
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const i = t.indexOf(':');
      if (i <= 0) continue;
      const hash = t.slice(i + 1);
      // Only bcrypt is accepted, as in the CNCF registry. $2y$ (htpasswd -B) is the same algorithm as $2b$.
      const m = BCRYPT_HASH.exec(hash);
      if (!m) continue;
      h.users.set(t.slice(0, i), hash.replace(/^\$2y\$/, '$2b$'));
      costs.set(m[1]!, (costs.get(m[1]!) ?? 0) + 1);
    }
    // The dummy takes the cost most users have (the CNCF registry compares unknown users against
    // an empty hash, which fails at once; here the whole bcrypt runs).
    const cost = [...costs].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '10';
    try {
      h.dummy = await h.pool.hash(randomBytes(18).toString('base64'), Number(cost));
    } catch (err) {
      await h.close();
      throw err;
    }
    return h;
  }

  /**
   * Whether the password is the user's. `client` is the key of the caller's address (clientKey).
   * Throws RegistryError 429 (with Retry-After) while the user or the client is backing off.
   */
  async verify(user: string, password: string, client: string): Promise<boolean> {
    const now = Date.now();
    const cacheId = createHmac('sha256', this.cacheKey).update(`${user}\0${password}`).digest('base64');
    const until = this.verified.get(cacheId);
    if (until !== undefined) {
      if (until > now) return true;
      this.verified.delete(cacheId);
    }
    const userKey = `user:${user}`;
    const clientKeyed = `addr:${client}`;
    const wait = this.limiter.retryAfter([userKey, clientKeyed]);
    if (wait > 0) {
      const secs = String(Math.ceil(wait / 1000));
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed authentication attempts', { detail: { retryAfterSeconds: Number(secs) }, headers: { 'Retry-After': secs } });
    }
    this.limiter.attempt([userKey, clientKeyed]);
    const hash = this.users.get(user);
    const ok = (await this.pool.compare(password, hash ?? this.dummy)) && hash !== undefined;
    if (!ok) return false;
    this.limiter.succeeded([userKey], [clientKeyed]);
    this.verified.set(cacheId, Date.now() + this.limits.cacheTtlMs);
    while (this.verified.size > this.limits.cacheMax) this.verified.delete(this.verified.keys().next().value!);
    return true;
  }

  /** Stops the bcrypt workers. */
  close(): Promise<void> { return this.pool.close(); }
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
