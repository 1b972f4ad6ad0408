// The host's platform in Go's spelling (GOOS/GOARCH), the names image configs, manifest lists and
// the Engine API use, from Node's process.arch. One table, so the builder's blank config, the
// platform a pull picks and what `docker version` reports cannot drift apart.
import type { Platform } from '../types/oci-distribution.ts';

/** Node's process.arch → GOARCH. Node's ppc64 on Linux is little-endian; its mipsel is Go's mipsle. */
const NODE_TO_GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64',
  mips: 'mips', mipsel: 'mipsle', loong64: 'loong64',
};

/** GOARCH of a Node architecture (the host's by default); an unknown one passes unchanged. */
export function goArch(nodeArch: string = process.arch): string {
  return NODE_TO_GOARCH[nodeArch] ?? nodeArch;
}

/**
 * The platform this host pulls and builds for: linux, its GOARCH, and the variant containerd's
 * default matcher assumes for the ARM families (v7 for arm, v8 for arm64).
 */
export function hostPlatform(nodeArch: string = process.arch): Platform {
  const architecture = goArch(nodeArch);
  const variant = architecture === 'arm' ? 'v7' : architecture === 'arm64' ? 'v8' : undefined;
  return { os: 'linux', architecture, ...(variant ? { variant } : {}) };
}
