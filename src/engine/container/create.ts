// `docker create`: the whole request is checked before the first side effect (image, namespace
// and network modes, port bindings, resources, security options, runtime, links, the name),
// then the name is reserved, the volumes planned, the dirs and etc files made and the record
// written atomically; a failure undoes all of it. The merge with the image's config and the
// recorded HostConfig are create-config.ts's.
import { refuseLimitsWithoutCgroups } from './rootless-limits.ts';
import { mkdir, rm, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../errors.ts';
import type { ContainerCreateBody } from '../../types/engine-api.ts';
import { newId } from '../../util/ids.ts';
import { checkConfigPresent } from './config-presence.ts';
import type { ContainerRecord } from './record.ts';
import { writeEtcFiles } from './etc-files.ts';
import { checkNamespaceModes } from './namespace-modes.ts';
import { validateName, generateName } from './names.ts';
import { validatePortBindings } from './port-spec.ts';
import { validateResources, type ResourceFields } from './resources.ts';
import { nowRfc3339 } from './status.ts';
import type { VolumeService } from '../volumes.ts';
import type { ContainerContext } from './context.ts';
import { mergeCommand, mergeConfig, createHostConfig, type Ulimit } from './create-config.ts';
import { checkNetworkMode, resolveLinks, registerLinks } from './network-glue.ts';
import { securityOptions } from './oci-spec.ts';
import { initialState } from './state.ts';
import { nameInUse } from './store.ts';

/** The daemon's defaults a create applies (daemon.json default-ulimits, log-driver, log-opts). */
export interface CreateDefaults {
  defaultUlimits: Ulimit[] | undefined;
  log: { driver?: string; opts?: Record<string, string> };
}

/** `input` as api/decode/containers.ts decoded it (the embedded HostConfig's fields lifted). */
export async function createContainer(ctx: ContainerContext, defaults: CreateDefaults, input: ContainerCreateBody, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
  const { store, networks, volumes, idMap } = ctx;
  checkConfigPresent(input);
  const image = ctx.images.store.resolve(input.Image);
  const hc = input.HostConfig ?? {};
  const nsModes = checkNamespaceModes({ ...input, HostConfig: hc }, (ref) => store.get(ref), ctx.nsDefaults.defaultIpcMode);
  const networkMode = nsModes.NetworkMode || 'default';
  checkNetworkMode(ctx, networkMode);
  validatePortBindings(hc.PortBindings);
  validateResources(hc as ResourceFields);
  refuseLimitsWithoutCgroups(ctx.rootless, hc as ResourceFields);
  securityOptions((hc as { SecurityOpt?: string[] | null }).SecurityOpt);
  // Berth has one runtime, runc (no containerd, so none of its shim names): moby's
  // verifyPlatformContainerSettings refuses a name it does not know with this text.
  const runtimeName = (hc as { Runtime?: string | null }).Runtime;
  if (runtimeName && runtimeName !== 'runc') throw new InvalidParameter(`Unknown runtime specified ${runtimeName}`);
  const endpoints = networks.initialEndpoints(networkMode, input.NetworkingConfig?.EndpointsConfig);
  const ic = (image.config.config ?? {}) as Record<string, unknown>;

  // Merge the image's defaults under the user's config (moby daemon/commit.go merge()).
  const { entrypoint, cmd, argv } = mergeCommand(input, ic);

  const name = nameParam ? validateName(nameParam) : generateName((n) => store.nameOwner(n) !== undefined);
  const taken = store.nameOwner(name);
  if (taken) throw nameInUse(name, taken);
  const id = newId();
  const dir = store.dirOf(id);
  const config = mergeConfig(input, ic, { id, networkMode, entrypoint, cmd });

  const hostConfig = createHostConfig(input.HostConfig, { ...nsModes, NetworkMode: networkMode }, { defaultUlimits: defaults.defaultUlimits, log: defaults.log });
  const linked = resolveLinks(ctx, hostConfig.NetworkMode, hostConfig.Links as string[] | null | undefined);

  // Reserve the name before the first await so two concurrent creates cannot both take it.
  store.reserveName(name, id);
  let mounts: Awaited<ReturnType<VolumeService['plan']>> = [];
  try {
    mounts = await volumes.plan({
      binds: hc.Binds ?? [], mounts: (hc.Mounts ?? []) as unknown as Array<Record<string, unknown>>, tmpfs: (hc.Tmpfs ?? {}) as Record<string, string>,
      volumesFrom: hc.VolumesFrom ?? [], imageVolumes: Object.keys((config.Volumes as object | null) ?? {}), volumeDriver: String(hc.VolumeDriver ?? ''),
      mountsOf: (ref) => store.get(ref).rec.Mounts ?? [],
    });
    await mkdir(dir, { mode: idMap ? 0o711 : 0o710 });
    await Promise.all(['upper', 'work', 'merged', 'empty'].map((d) => mkdir(join(dir, d), { mode: 0o755 })));
    // The container's own / belongs to its (remapped) root.
    if (idMap) await chown(join(dir, 'upper'), idMap.uid, idMap.gid);
    const etc = await writeEtcFiles(dir, {
      hostname: config.Hostname, domainname: config.Domainname, networkMode: hostConfig.NetworkMode,
      extraHosts: hostConfig.ExtraHosts ?? undefined, dns: hostConfig.Dns, dnsSearch: hostConfig.DnsSearch,
      dnsOptions: hostConfig.DnsOptions, hostGateway: networks.hostGateway(),
    });
    const rec: ContainerRecord = {
      Id: id,
      Created: nowRfc3339(),
      Path: argv[0]!,
      Args: argv.slice(1),
      State: initialState(),
      Image: image.id,
      Name: `/${name}`,
      RestartCount: 0,
      LogPath: (hostConfig.LogConfig as { Type: string }).Type === 'none' ? '' : join(dir, 'container.log'),
      HostnamePath: etc.hostname,
      HostsPath: etc.hosts,
      ResolvConfPath: etc.resolvConf,
      Config: config,
      HostConfig: hostConfig,
      NetworkSettings: { SandboxKey: '', Networks: endpoints, Ports: {} },
      Mounts: mounts,
      SystemPathsRecorded: true,
    };
    await store.write(dir, rec);
    registerLinks(ctx, rec, linked);
    ctx.emit(store.track(rec), 'create');
  } catch (err) {
    store.releaseName(name, id);
    await volumes.removeAnonymous(mounts, id).catch(() => {});
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return { Id: id, Warnings: [] };
}
