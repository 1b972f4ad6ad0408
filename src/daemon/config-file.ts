// daemon.json's schema (dockerd's key names). Loaded only when a file is read: zod is a big part
// of berthd's start-up memory, and most runs have no daemon.json.
import { z } from 'zod';

import { logLevels } from './log-levels.ts';

export const fileSchema = z.object({
  hosts: z.array(z.string()).optional(),
  'data-root': z.string().optional(),
  'exec-root': z.string().optional(),
  pidfile: z.string().optional(),
  runtime: z.string().optional(),
  'default-runtime': z.string().optional(),
  'log-level': z.enum(logLevels).optional(),
  debug: z.boolean().optional(),
  bridge: z.string().optional(),
  bip: z.string().optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  'default-address-pool': z.string().optional(),
  'default-address-pools': z.array(z.object({ base: z.string(), size: z.number().int() })).optional(),
  'userland-proxy': z.boolean().optional(),
  'storage-driver': z.string().optional(),
  'ip-forward-no-drop': z.boolean().optional(),
  'userns-remap': z.string().optional(),
  'insecure-registries': z.array(z.string()).optional(),
  'registry-mirrors': z.array(z.string()).optional(),
  tls: z.boolean().optional(),
  tlsverify: z.boolean().optional(),
  tlscacert: z.string().optional(),
  tlscert: z.string().optional(),
  tlskey: z.string().optional(),
  'live-restore': z.boolean().optional(),
  'default-ulimits': z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  'log-driver': z.string().optional(),
  'log-opts': z.record(z.string(), z.unknown()).optional(),
  init: z.boolean().optional(),
  'init-path': z.string().optional(),
  'default-ipc-mode': z.string().optional(),
}).strict();

export type FileConfig = z.infer<typeof fileSchema>;
