// Headers every response carries (dockerd's version middleware); clients read Api-Version and
// Ostype from any response, not only from /_ping. Api-Version is the server's own maximum.
import { MAX_API_VERSION } from './version.ts';
import { BERTH_VERSION } from '../types/version.ts';

export { BERTH_VERSION };

export function commonHeaders(): Record<string, string> {
  return {
    'Api-Version': MAX_API_VERSION,
    Ostype: 'linux',
    Server: `Berth/${BERTH_VERSION} (linux)`,
    'Docker-Experimental': 'false',
  };
}
