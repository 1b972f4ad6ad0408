// Log lines as ranges over one read buffer: what runtime/logs.ts reads from a container's log
// files and api/stdcopy.ts turns into stdcopy frames, with one copy per line. Valid until the
// next batch is asked for.

export interface LogBatch {
  buf: Buffer;
  count: number;
  /** 1 stdout, 2 stderr. */
  stream: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  /** With timestamps: per line an index into `stamps` (RFC3339Nano, UTC, `Z`). */
  stamp?: Int32Array;
  stamps?: Buffer[];
}
