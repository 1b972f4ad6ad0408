// syncfs(2), which Node lacks: coreutils' `sync -f PATH` flushes the whole filesystem holding
// PATH. The image store uses it once per committed layer, where fsyncing each extracted file
// would cost one disk flush per file (containerd's walking differ does the same with WithSyncFs).
import { run } from './exec.ts';

export async function syncFs(path: string): Promise<void> {
  await run('sync', ['-f', path], { timeoutMs: 120_000 });
}
