// Extended attributes travel in tar as PAX records `SCHILY.xattr.<name>=<value>`, and their
// values are bytes (security.capability is binary). tar-stream reads and writes PAX values as
// UTF-8 text, which would corrupt them; this module makes it carry xattr values as latin1
// strings (one char per byte), which `xattrBytes` turns back into the exact bytes.
import { createRequire } from 'node:module';

export const XATTR_PREFIX = 'SCHILY.xattr.';

interface PaxCodec {
  encodePax(opts: { name?: string; linkname?: string; pax?: Record<string, string> }): Uint8Array;
  decodePax(buf: Uint8Array): Record<string, string>;
}

function record(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

let patched = false;

/** Installs the byte-exact PAX codec into tar-stream (once, before any archive is read). */
export function patchTarStreamPax(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const headers = require(require.resolve('tar-stream').replace(/index\.js$/, 'headers.js')) as PaxCodec;
  headers.encodePax = (opts) => {
    const parts: Buffer[] = [];
    if (opts.name) parts.push(record('path', Buffer.from(opts.name)));
    if (opts.linkname) parts.push(record('linkpath', Buffer.from(opts.linkname)));
    for (const [k, v] of Object.entries(opts.pax ?? {})) {
      parts.push(record(k, Buffer.from(v, k.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8')));
    }
    return Buffer.concat(parts);
  };
  headers.decodePax = (input) => {
    const out: Record<string, string> = {};
    let buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    while (buf.length) {
      const sp = buf.indexOf(0x20);
      const len = sp > 0 ? parseInt(buf.subarray(0, sp).toString('latin1'), 10) : NaN;
      if (!(len > sp + 1) || len > buf.length) return out;
      const rec = buf.subarray(sp + 1, len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq < 0) return out;
      const key = rec.subarray(0, eq).toString('utf8');
      out[key] = rec.subarray(eq + 1).toString(key.startsWith(XATTR_PREFIX) ? 'latin1' : 'utf8');
      buf = buf.subarray(len);
    }
    return out;
  };
}

export function xattrBytes(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}
