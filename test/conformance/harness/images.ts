// The images every scenario may use, made the same way on both daemons (no registry here):
// busybox:latest imported from the host's busybox-static (scripts/busybox-image.sh).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repo, runCmd, DOCKER } from '../../helpers/daemon.ts';
import type { DaemonUnderTest } from './daemons.ts';

let busyboxTar: Buffer | undefined;

export async function importImages(d: DaemonUnderTest): Promise<void> {
  busyboxTar ??= execFileSync('bash', [join(repo, 'scripts/busybox-image.sh')], { maxBuffer: 1 << 28 });
  const r = await runCmd(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: busyboxTar, env: d.env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`import into ${d.kind} failed: ${r.stderr}`);
}
