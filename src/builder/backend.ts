// What the builder needs from the engine, and nothing more: images to start from, new images
// made of a parent plus a config or plus a layer, and containers to RUN in. The engine
// implements it (engine/build-backend.ts); the builder never touches stores or runc itself.
import type { ImageConfigFile } from '../types/oci-image.ts';
import type { AuthConfig } from '../types/auth-config.ts';

export interface BaseImage { id: string; config: ImageConfigFile }

/** Added to file owners written into a root filesystem (userns-remap; zero without it). */
export interface IdShift { uid: number; gid: number }

/** What a RUN step's container gets besides its image's config. */
export interface RunSpec {
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  networkMode: string;
  extraHosts: string[];
  /** Resource limits of the build request (memory, cpus…), in Docker's HostConfig names. */
  resources: Record<string, unknown>;
}

export interface BuildBackend {
  /** A local image by name or ID, pulled first when missing or when `pull` is set. */
  image(ref: string, o: { pull: boolean; platform?: string; auth?: AuthConfig; output: (line: string) => void }): Promise<BaseImage>;
  /** A new image: the parent's layers (none for scratch) and this config. */
  configImage(parent: BaseImage | undefined, config: ImageConfigFile): Promise<BaseImage>;
  /**
   * A new image: the parent's layers plus one holding what `change` does to a writable view of
   * the parent's root filesystem (mounted at the path it is given). `config` gets the new diff ID.
   */
  layerImage(parent: BaseImage | undefined, change: (rootfs: string, shift: IdShift) => Promise<void>, config: (diffId: string) => ImageConfigFile): Promise<BaseImage>;
  /** Runs `fn` with a read-only view of an image's root filesystem (COPY --from). */
  withImageRoot<T>(image: BaseImage, fn: (rootfs: string) => Promise<T>): Promise<T>;
  /**
   * RUN: a container of `parent` runs `spec`; its output goes to `output` as it comes. Exit 0:
   * its changes become a new image (config from `config`). The container is removed after
   * unless `keepOnFailure` and it failed. Returns the container's ID either way.
   */
  run(parent: BaseImage, spec: RunSpec, o: {
    /** `stderr`: the chunk came from the step's stderr (dockerd colours it in the stream). */
    output: (chunk: Buffer, stderr: boolean) => void;
    onStart: (containerId: string) => void;
    config: (diffId: string) => ImageConfigFile;
    keepOnFailure: boolean;
  }): Promise<{ containerId: string; exitCode: number; image?: BaseImage }>;
  /** Tags an image (`t=`). */
  tag(imageId: string, ref: string): Promise<void>;
  hasImage(id: string): boolean;
  /** A local image's ID followed by its parents' (the chain a build made), or [] when there is no such image. */
  lineage(ref: string): string[];
}
