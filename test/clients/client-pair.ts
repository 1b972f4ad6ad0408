// The frame every third-party client suite (compose, skopeo, dockerode, testcontainers) runs in:
// the same suite against a private dockerd (Debian's docker.io, the judge: a suite that fails
// there is a wrong test) and against a private berthd, both halves at the same time, each
// daemon on subnets of its own (the suites publish no fixed host port, and record no address).
// Each step asserts what the client's users rely on, and records a normalised transcript entry;
// the last test of the pair, once both halves have ended, compares the two transcripts, so a
// berthd answer that differs from dockerd's in something the assertions did not foresee still
// shows up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { haveDockerd, makeScratch, pickPairNets, startBerthd, startDockerd, type DaemonUnderTest, type Kind } from '../conformance/harness/daemons.ts';
import { importImages } from '../conformance/harness/images.ts';

export interface PairContext {
  /** The daemon of the current half (valid inside tests and hooks). */
  d(): DaemonUnderTest;
  kind: Kind;
  /** Adds a transcript entry: berthd's must equal dockerd's under the same key. */
  record(key: string, value: unknown): void;
}

/**
 * Declares `suite` twice, once per daemon, each half with its own freshly started daemon
 * (busybox:latest imported) that is stopped and removed with everything it made, even on failure.
 * The halves run at the same time; the steps within a half one after the other, in order.
 */
export function onBothDaemons(title: string, suite: (ctx: PairContext) => void, opts: { timeout?: number } = {}): void {
  const skip = haveDockerd() ? false : 'dockerd is not installed (scripts/install.sh installs Debian docker.io)';
  const transcripts: Record<Kind, Record<string, unknown>> = { dockerd: {}, berthd: {} };
  const nets = pickPairNets();
  describe(title, { skip, timeout: opts.timeout ?? 180_000 }, () => {
    describe('dockerd and berthd at the same time', { concurrency: 2 }, () => {
      for (const [i, kind] of (['dockerd', 'berthd'] as const).entries()) {
        // concurrency is inherited: each half's own steps stay in order
        describe(kind, { concurrency: 1 }, () => {
          const net = nets[i]!;
          let daemon: DaemonUnderTest | undefined;
          let scratch: string | undefined;
          before(async () => {
            scratch = makeScratch();
            daemon = kind === 'dockerd' ? await startDockerd(net, scratch) : await startBerthd(net, scratch);
            await importImages(daemon);
          }, { timeout: 90_000 });
          after(async () => {
            try {
              await daemon?.stop();
            } finally {
              if (scratch) rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
            }
          }, { timeout: 90_000 });
          suite({
            kind,
            d: () => {
              if (!daemon) throw new Error(`${kind} did not start`);
              return daemon;
            },
            record: (key, value) => { transcripts[kind][key] = value; },
          });
        });
      }
    });
    it('berthd answered as dockerd did (normalised transcripts)', () => {
      assert.ok(Object.keys(transcripts.dockerd).length > 0, 'the dockerd half recorded its answers');
      assert.deepEqual(transcripts.berthd, transcripts.dockerd);
    });
  });
}
