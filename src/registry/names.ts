// Names the distribution spec constrains: repository names, tags, digests ("Pulling manifests"
// in spec.md gives the grammar). Everything that becomes a path on disk passes through here first,
// so no request can name a file outside the registry root.
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The CNCF registry's limit on a whole repository name. */
export const MAX_NAME_LENGTH = 255;

export function checkName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name } });
  }
  return name;
}

export const isTag = (ref: string): boolean => TAG_RE.test(ref);
export const isDigest = (ref: string): boolean => DIGEST_RE.test(ref);

/** A digest Berth can verify: sha256 only. Other well-formed algorithms are refused as unsupported. */
export function checkDigest(digest: string | null | undefined): string {
  if (digest && DIGEST_RE.test(digest)) return digest;
  const message = digest && ANY_DIGEST_RE.test(digest) && !digest.startsWith('sha256:')
    ? 'unsupported digest algorithm' : 'invalid digest';
  throw new RegistryError('DIGEST_INVALID', message, { detail: { digest: digest ?? '' } });
}

export function checkReference(ref: string): { tag?: string; digest?: string } {
  if (ref.includes(':')) return { digest: checkDigest(ref) };
  if (!isTag(ref)) throw new RegistryError('TAG_INVALID', 'manifest tag did not match URI', { detail: { tag: ref } });
  return { tag: ref };
}

export const sha256Of = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
