// The jsonmessage renderer: what a pull looks like on a terminal (lines per layer redrawn in
// place with bars) and piped (status lines only), errors, aux messages — the bytes docker's
// DisplayJSONMessagesStream writes for the same stream.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { displayStream, progressString, renderProgress, StreamError, type JsonMessage } from '../../../src/cli/io/progress.ts';
import { CliError, type Ctx } from '../../../src/cli/command.ts';

const MB = 1_000_000;
const PULL: JsonMessage[] = [
  { status: 'Pulling from t/big', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Already exists', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 12.5 * MB, total: 40 * MB }, progress: '[===>   ] 12.5MB/40MB', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Digest: sha256:abc' },
  { status: 'Status: Downloaded newer image for x:1' },
];

async function render(msgs: JsonMessage[], tty: boolean, width = 160): Promise<string> {
  let out = '';
  await displayStream(Readable.from(msgs), (s) => { out += s; }, { tty, width, now: () => 0 });
  return out;
}

describe('progress rendering (jsonmessage)', () => {
  it('piped: one line per status, progress updates left out', async () => {
    assert.equal(await render(PULL, false), [
      '1: Pulling from t/big', 'aaa: Pulling fs layer', 'bbb: Already exists', 'aaa: Download complete', 'aaa: Pull complete',
      'Digest: sha256:abc', 'Status: Downloaded newer image for x:1', '',
    ].join('\n'));
  });

  it('on a terminal: a line per layer, redrawn in place with a bar', async () => {
    const bar = `[${'='.repeat(15)}>${' '.repeat(35)}]   12.5MB/40MB`;
    const expected = '1: Pulling from t/big\n'
      // new id: a fresh line, cursor up 1, erase, draw, cursor down 1
      + '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B'
      + '\n\x1b[1A\x1b[2K\rbbb: Already exists \r\x1b[1B'
      // aaa is two lines up now
      + `\x1b[2A\x1b[2K\raaa: Downloading ${bar}\r\x1b[2B`
      + '\x1b[2A\x1b[2K\raaa: Download complete \r\x1b[2B'
      + '\x1b[2A\x1b[2K\raaa: Pull complete \r\x1b[2B'
      + 'Digest: sha256:abc\nStatus: Downloaded newer image for x:1\n';
    assert.equal(await render(PULL, true), expected);
  });

  it('draws no bar on a terminal of 110 columns or less, only the numbers', async () => {
    assert.equal(progressString({ current: 12.5 * MB, total: 40 * MB }, 100), '  12.5MB/40MB');
    assert.equal(progressString({ current: 2048 }, 200), ' 2.048kB');
    // current beyond total: a full bar and no total
    assert.equal(progressString({ current: 50, total: 40 }, 200), `[${'='.repeat(50)}>]      50B`);
    assert.equal(progressString({ current: 3, total: 10, units: 'layers' }, 100), '3/10 layers');
    assert.equal(progressString({}, 200), '');
  });

  it('estimates the time left from the start time', () => {
    // 10 MB in 10 s, 30 MB to go: 30 s.
    assert.equal(progressString({ current: 10 * MB, total: 40 * MB, start: 100 }, 100, 110), '    10MB/40MB 30s');
  });

  it('an error line ends the stream with its message and code; aux messages are returned, not shown', async () => {
    const err = await render([{ status: 'x' }, { errorDetail: { code: 7, message: 'boom' }, error: 'boom' }], false).catch((e: unknown) => e);
    assert.ok(err instanceof StreamError && err instanceof CliError);
    assert.equal(err.message, 'boom');
    assert.equal(err.code, 7);
    let out = '';
    const aux = await displayStream(Readable.from([{ stream: 'Step 1/1\n' }, { aux: { ID: 'sha256:1' } }]), (s) => { out += s; }, { tty: true });
    assert.deepEqual(aux, [{ ID: 'sha256:1' }]);
    assert.equal(out, 'Step 1/1\n');
  });

  it('renderProgress reads newline-delimited JSON from the response and writes to the context', async () => {
    let out = '';
    const ctx = { out: { write: (s: string) => { out += s; return true; } } } as unknown as Ctx;
    const body = Readable.from([Buffer.from('{"status":"Loading"}\n{"stream":"Loaded image: a:1\\n"}\n')]);
    await renderProgress(ctx, body);
    assert.equal(out, 'Loading\nLoaded image: a:1\n');
  });
});
