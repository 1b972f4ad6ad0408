// A container's health check as configured: the image's HEALTHCHECK under the container's own
// --health-* fields (moby's merge). The monitor that runs it is health.ts.

export interface HealthConfig { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }

/** The container's check: its own fields over the image's (moby's merge), or none. */
export function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!user && !image) return undefined;
  const u = user ?? {};
  const i = image ?? {};
  const out: HealthConfig = {
    Test: u.Test?.length ? u.Test : i.Test,
    Interval: u.Interval || i.Interval, Timeout: u.Timeout || i.Timeout, StartPeriod: u.StartPeriod || i.StartPeriod,
    StartInterval: u.StartInterval || i.StartInterval, Retries: u.Retries || i.Retries,
  };
  for (const k of Object.keys(out) as (keyof HealthConfig)[]) if (out[k] === undefined || out[k] === 0) delete out[k];
  return out;
}
