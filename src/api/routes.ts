// Every route of the Engine API that berthd serves, registered on one router.
import type { Router } from './router.ts';
import type { Engine } from '../engine/engine.ts';
import { registerSystemRoutes } from './handlers/system.ts';
import { registerImageRoutes } from './handlers/images.ts';
import { registerContainerRoutes } from './handlers/containers.ts';
import { registerExecRoutes } from './handlers/exec.ts';
import { registerDiskRoutes } from './handlers/system-df.ts';
import { registerNetworkRoutes } from './handlers/networks.ts';
import { registerVolumeRoutes } from './handlers/volumes.ts';
import { registerBuildRoutes } from './handlers/build.ts';
import { registerEventRoutes } from './handlers/events.ts';
import { registerSwarmRoutes } from './handlers/swarm.ts';
import { registerPluginRoutes } from './handlers/plugins.ts';

export function registerRoutes(router: Router, engine: Engine): void {
  registerSystemRoutes(router, engine);
  registerImageRoutes(router, engine.images);
  registerContainerRoutes(router, engine);
  registerExecRoutes(router, engine);
  registerDiskRoutes(router, engine);
  registerNetworkRoutes(router, engine);
  registerVolumeRoutes(router, engine);
  registerBuildRoutes(router, engine.builds);
  registerEventRoutes(router, engine.events);
  registerSwarmRoutes(router);
  registerPluginRoutes(router);
}
