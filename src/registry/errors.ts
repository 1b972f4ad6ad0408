// The registry's error vocabulary: the distribution spec's error codes ("Error Codes" in
// spec.md), each with the status the CNCF registry sends for it. Handlers throw a RegistryError
// where the fault arises; server.ts is the one place that writes it as
// {"errors":[{"code","message","detail"}]}.
import { BerthError } from '../errors.ts';

const STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  NOT_FOUND: 404,
} as const;

export type RegistryErrorCode = keyof typeof STATUS;

export class RegistryError extends BerthError {
  override readonly status: number;
  readonly code: RegistryErrorCode;
  readonly detail: unknown;
  /** Extra response headers (a 401's challenge, a 416's current Range). */
  readonly headers: Record<string, string>;
  constructor(code: RegistryErrorCode, message: string, opts: { detail?: unknown; status?: number; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? STATUS[code];
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
  }
}

export const blobUnknown = (digest: string): RegistryError =>
  new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
export const manifestUnknown = (reference: string): RegistryError =>
  new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown', { detail: { reference } });
export const nameUnknown = (name: string): RegistryError =>
  new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
export const uploadUnknown = (uuid: string): RegistryError =>
  new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid } });
export const digestInvalid = (message: string, detail?: unknown): RegistryError =>
  new RegistryError('DIGEST_INVALID', message, { detail });
