// Docker-style identifiers: 64 hex chars, shown shortened to 12.
import { randomBytes, createHash } from 'node:crypto';

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** A digest's hex, the name its blob has on disk: "sha256:ab…" → "ab…". */
export function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function isFullId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
