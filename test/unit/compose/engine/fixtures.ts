// A small Project for the engine's unit tests, as loadProject would hand it over.
import type { Project, Service } from '../../../../src/compose/model/types.ts';

export function project(services: Record<string, Partial<Service>>, more: Partial<Project> = {}): Project {
  const s: Record<string, Service> = {};
  for (const [name, v] of Object.entries(services)) s[name] = { name, ...v } as Service;
  return {
    name: 'shop', workingDir: '/src/shop', configFiles: ['/src/shop/compose.yaml'], services: s, disabledServices: {},
    networks: { default: { name: 'shop_default' } }, volumes: {}, secrets: {}, configs: {}, extensions: {}, environment: {}, profiles: [],
    ...more,
  };
}
