// Docker's image reference grammar and normalisation (distribution/reference): `busybox` is
// `docker.io/library/busybox:latest`, and is shown again as `busybox:latest`.
import { InvalidParameter } from '../errors.ts';

export interface Reference { domain: string; path: string; tag?: string; digest?: string }

export const DEFAULT_DOMAIN = 'docker.io';
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const domainRe = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::\d+)?$|^\[[0-9a-fA-F:.]+\](?::\d+)?$/;

export function parseReference(s: string): Reference {
  if (!s || s.length > 255) throw new InvalidParameter('invalid reference format');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw new InvalidParameter('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw new InvalidParameter('invalid reference format');
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!domainRe.test(first)) throw new InvalidParameter('invalid reference format');
      domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  const parts = path.split('/');
  if (parts.some((p) => !pathComponent.test(p))) {
    if (parts.every((p) => pathComponent.test(p.toLowerCase()))) {
      // distribution/reference's text since v0.5 (moby 25+, and the Docker CLI 28): it names the
      // repository. dockerd 20.10 vendors the older text without the name (ALLOWED.json).
      throw new InvalidParameter(`invalid reference format: repository name (${path}) must be lowercase`);
    }
    throw new InvalidParameter('invalid reference format');
  }
  return { domain, path, tag, digest };
}

export function normalizedName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The short name Docker prints: `busybox`, `user/app`, `127.0.0.1:5000/app`. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
}

/** `name:tag` (default tag latest) for a reference without a digest; `name@digest` with one. */
export function familiarString(r: Reference): string {
  if (r.digest) return `${familiarName(r)}@${r.digest}`;
  return `${familiarName(r)}:${r.tag ?? 'latest'}`;
}

/** The key tags are stored under: `docker.io/library/busybox:latest`. */
export function tagKey(r: Reference): string {
  return `${normalizedName(r)}:${r.tag ?? 'latest'}`;
}

export function familiarFromKey(key: string): string {
  return familiarString(parseReference(key));
}
