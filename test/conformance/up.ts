// For trying things by hand: starts one private daemon (dockerd or berthd) with subnets of its
// own and busybox:latest imported, prints the DOCKER_HOST to use, and cleans everything up on
// SIGINT/SIGTERM (or after --minutes, default 60).
//   node test/conformance/up.ts dockerd &    # prints: export DOCKER_HOST=unix:///run/bcd-…/docker.sock
//   node test/conformance/up.ts berthd &
import { rmSync } from 'node:fs';
import { makeScratch, pickPairNet, startBerthd, startDockerd } from './harness/daemons.ts';
import { importImages } from './harness/images.ts';

const kind = process.argv[2];
if (kind !== 'dockerd' && kind !== 'berthd') {
  process.stderr.write('usage: node test/conformance/up.ts dockerd|berthd [--minutes N]\n');
  process.exit(2);
}
const mi = process.argv.indexOf('--minutes');
const minutes = mi > 0 ? Number(process.argv[mi + 1]) : 60;
const net = pickPairNet();
const scratch = makeScratch();
const d = kind === 'dockerd' ? await startDockerd(net, scratch) : await startBerthd(net, scratch);
let done = false;
const finish = async (): Promise<void> => {
  if (done) return;
  done = true;
  await d.stop().catch((e) => process.stderr.write(`${e}\n`));
  rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  process.exit(0);
};
process.on('SIGINT', () => void finish());
process.on('SIGTERM', () => void finish());
try {
  await importImages(d);
} catch (e) {
  process.stderr.write(`${e}\n`);
  await finish();
}
process.stdout.write(`export DOCKER_HOST=unix://${d.socket} DOCKER_CONFIG=${d.env.DOCKER_CONFIG} DOCKER_BUILDKIT=0  # ${kind}, bridge subnet ${net.bip}, pool ${net.pool}\n`);
setTimeout(() => void finish(), minutes * 60_000);
