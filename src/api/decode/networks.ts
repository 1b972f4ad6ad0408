// The bodies of `POST /networks/create`, `/networks/{id}/connect` and `/disconnect`: Go's types
// first (readGoJson), then each field's JSON type, with the texts dockerd's decoder gives.
import type { IncomingMessage } from 'node:http';
import { readGoJson } from '../respond.ts';
import { networkCreateRequest, networkConnect, networkDisconnect } from '../../types/go-wire-types.ts';
import { object, optBool, optString, optStringMap } from './check.ts';
import { InvalidParameter } from '../../errors.ts';
import type { EndpointInput, NetworkService } from '../../engine/networks.ts';

export type NetworkCreateInput = Parameters<NetworkService['create']>[0];

export function decodeNetworkCreate(value: unknown): NetworkCreateInput {
  const raw = object(value ?? {}, 'network config');
  for (const k of ['Name', 'Driver', 'Scope']) optString(raw, k);
  for (const k of ['Internal', 'Attachable', 'Ingress', 'EnableIPv6', 'CheckDuplicate']) optBool(raw, k);
  optStringMap(raw, 'Labels');
  optStringMap(raw, 'Options');
  if (raw.IPAM !== undefined && raw.IPAM !== null) {
    const ipam = object(raw.IPAM, 'IPAM');
    optString(ipam, 'Driver', 'IPAM.Driver');
    optStringMap(ipam, 'Options', 'IPAM.Options');
    if (ipam.Config !== undefined && ipam.Config !== null) {
      if (!Array.isArray(ipam.Config)) throw new InvalidParameter('invalid IPAM.Config: expected a list');
      for (const c of ipam.Config) {
        const cfg = object(c, 'IPAM.Config entry');
        for (const k of ['Subnet', 'IPRange', 'Gateway']) optString(cfg, k, `IPAM.Config.${k}`);
        optStringMap(cfg, 'AuxiliaryAddresses', 'IPAM.Config.AuxiliaryAddresses');
      }
    }
  }
  return raw as unknown as NetworkCreateInput;
}

export async function readNetworkCreate(req: IncomingMessage): Promise<NetworkCreateInput> {
  return decodeNetworkCreate(await readGoJson(req, networkCreateRequest, 'got-eof'));
}

export interface NetworkConnectInput { Container: string; EndpointConfig?: EndpointInput | null }
export interface NetworkDisconnectInput { Container: string; Force?: boolean }

/** connect and disconnect name a container (a string), or the request is refused. */
function withContainer<T extends { Container: string }>(value: unknown): T {
  const body = value as { Container?: unknown } | null;
  if (!body?.Container) throw new InvalidParameter('container is required');
  optString(body as Record<string, unknown>, 'Container');
  return body as T;
}

export async function readNetworkConnect(req: IncomingMessage): Promise<NetworkConnectInput> {
  return withContainer(await readGoJson(req, networkConnect, 'got-eof'));
}

export async function readNetworkDisconnect(req: IncomingMessage): Promise<NetworkDisconnectInput> {
  return withContainer(await readGoJson(req, networkDisconnect, 'got-eof'));
}
