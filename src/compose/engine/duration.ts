// The compose file's durations ("1m30s", "500ms"), which the model keeps as Go writes them, as
// the API wants them: healthcheck times in nanoseconds, stop_grace_period in seconds. The model's
// Go parser (model/go-duration.ts) reads them; normalize has checked them already.
import { parseGoDuration } from '../model/go-duration.ts';

export const durationNs = (text: string): number => Number(parseGoDuration(text, 'duration'));

export const durationSeconds = (text: string): number => Math.trunc(durationNs(text) / 1e9);
