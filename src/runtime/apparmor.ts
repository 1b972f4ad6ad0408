// AppArmor, decided as dockerd decides it. containerd's pkg/apparmor hostSupports(): the kernel
// has AppArmor (/sys/kernel/security/apparmor), it is enabled (/sys/module/apparmor/parameters/
// enabled is "Y"), apparmor_parser is installed and the daemon does not itself run in a container
// ($container unset). On a host without it, moby keeps `--security-opt apparmor=…` in the
// container's HostConfig and applies nothing (WithApparmor is a no-op, inspect's AppArmorProfile
// stays empty) and `docker info` lists no name=apparmor: Berth does the same.
//
// On a host with it, moby (daemon/oci_linux.go WithApparmor) puts the named profile in the OCI
// process.apparmorProfile, "unconfined" for --privileged, else "docker-default", which it loads
// itself. Berth does not write or load AppArmor profiles: it applies a named profile (runc fails
// the start when it is not loaded, as with Docker) and docker-default only when something (a
// Docker installation) has loaded it; otherwise the container runs without a profile.
import { existsSync, readFileSync } from 'node:fs';

function hostSupports(): boolean {
  if (process.env.container || !existsSync('/sys/kernel/security/apparmor')) return false;
  if (!existsSync('/sbin/apparmor_parser') && !existsSync('/usr/sbin/apparmor_parser')) return false;
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

function loaded(name: string): boolean {
  try {
    return readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8').split('\n').some((l) => l.startsWith(`${name} (`));
  } catch {
    return false;
  }
}

export interface AppArmorHost { supported: boolean; defaultLoaded: boolean }

/** Read once at start-up; `docker info` and every container start use it. */
export const hostAppArmor: AppArmorHost = (() => {
  const supported = hostSupports();
  return { supported, defaultLoaded: supported && loaded('docker-default') };
})();

/** process.apparmorProfile for a container: `profile` is the value of `--security-opt apparmor=`. */
export function containerAppArmor(profile: string | undefined, privileged: boolean, host: AppArmorHost = hostAppArmor): string | undefined {
  if (!host.supported) return undefined;
  if (profile) return profile;
  if (privileged) return 'unconfined';
  return host.defaultLoaded ? 'docker-default' : undefined;
}
