// The body of `POST /volumes/create` (volume.CreateOptions): Go's types first (readGoJson),
// then each field's JSON type, with the texts dockerd's decoder gives.
import type { IncomingMessage } from 'node:http';
import { readGoJson } from '../respond.ts';
import { volumeCreateBody } from '../../types/go-wire-types.ts';
import { object, optString, optStringMap } from './check.ts';

export interface VolumeCreateInput {
  Name?: string | null;
  Driver?: string | null;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export function decodeVolumeCreate(value: unknown): VolumeCreateInput {
  const raw = object(value ?? {}, 'volume config');
  optString(raw, 'Name');
  optString(raw, 'Driver');
  optStringMap(raw, 'DriverOpts');
  optStringMap(raw, 'Labels');
  return raw as VolumeCreateInput;
}

export async function readVolumeCreate(req: IncomingMessage): Promise<VolumeCreateInput> {
  return decodeVolumeCreate(await readGoJson(req, volumeCreateBody, 'got-eof'));
}
