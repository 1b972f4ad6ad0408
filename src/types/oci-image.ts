// OCI image-spec config (config.md), as Docker writes it: the `config` block carries the
// container defaults, `rootfs.diff_ids` the layers, `history` one entry per step.

export interface ContainerConfigFields {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  [k: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigFile {
  architecture: string;
  os: string;
  created?: string;
  author?: string;
  config?: ContainerConfigFields;
  container_config?: ContainerConfigFields;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  docker_version?: string;
  comment?: string;
  [k: string]: unknown;
}
