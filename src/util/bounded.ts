// Runs tasks with at most `limit` in flight. Every task runs (or is skipped once one failed),
// and the call settles only when none is in flight, so no work outlives a failed batch.

export async function forEachBounded<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>, onQueued?: (item: T, index: number) => void): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  if (onQueued) items.forEach((it, i) => { if (i >= limit) onQueued(it, i); });
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}
