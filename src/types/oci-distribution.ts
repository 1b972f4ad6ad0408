// OCI Distribution and image-manifest wire types (image-spec manifest.md, image-index.md, and
// Docker's schema2 / manifest list): what a registry stores and serves, and what a pull reads.

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** The four manifest kinds a registry serves and a pull understands. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ociManifest, MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociIndex,
];

export const isIndexMediaType = (t: string | undefined): boolean =>
  t === MediaType.dockerManifestList || t === MediaType.ociIndex;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

/** An image manifest (Docker schema2 or OCI). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest list (Docker) or image index (OCI). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Registry error body (distribution spec "Error Codes"). */
export interface RegistryErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}
