// The worker side of api/json-decoder.ts: decodes one body at a time as Go would and answers
// with the value as JSON text (cheap for the main thread to parse) or Go's error.
import { parentPort } from 'node:worker_threads';
import { goDecode, GoJsonError } from '../util/go-json.ts';
import type { GoType } from '../types/go-wire-types.ts';

export interface DecodeCall { seq: number; body: Uint8Array; type: GoType }
export type DecodeAnswer =
  | { seq: number; json: string }
  | { seq: number; error: { kind: 'syntax' | 'eof' | 'type'; message: string } }
  | { seq: number; fault: string };

const port = parentPort!;
port.on('message', (m: DecodeCall) => {
  let answer: DecodeAnswer;
  try {
    const text = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength).toString('utf8');
    const v = goDecode(text, m.type);
    answer = { seq: m.seq, json: v === undefined ? 'null' : JSON.stringify(v) };
  } catch (e) {
    answer = e instanceof GoJsonError
      ? { seq: m.seq, error: { kind: e.kind, message: e.message } }
      : { seq: m.seq, fault: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(answer);
});
