// Headers every response carries (dockerd's version middleware); clients read Api-Version and
// Ostype from any response, not only from /_ping. Api-Version is the server's own maximum.
import { MAX_API_VERSION } from './version.ts';

export const BERTH_VERSION = '0.1.0';

export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': MAX_API_VERSION,
    Ostype: 'linux',
    Server: `Berth/${BERTH_VERSION} (linux)`,
    'Docker-Experimental': 'false',
  };
}
