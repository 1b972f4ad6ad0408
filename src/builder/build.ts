// The classic builder (`POST /build`, DOCKER_BUILDKIT=0): one image per instruction, each the
// child of the one before, with the JSON stream the Docker CLI prints (`Step 2/9 : RUN …`,
// ` ---> Using cache`, ` ---> 3f2a…`). A step whose key (parent image + what it does, with the
// content hash of what it copies, and the build args a RUN sees) is in the cache is not run again.
import { posix } from 'node:path';
import { InvalidParameter, NotFound, BerthError } from '../errors.ts';
import type { AuthConfig } from '../types/auth-config.ts';
import type { ImageConfigFile, ContainerConfigFields, HistoryEntry } from '../types/oci-image.ts';
import { resolveUser } from '../util/user.ts';
import { newId, shortId } from '../util/ids.ts';
import { parseStopSignal } from '../util/signals.ts';
import { goArch } from '../util/platform.ts';
import type { BaseImage, BuildBackend } from './backend.ts';
import { BuildCache } from './cache.ts';
import type { BuildContext } from './context.ts';
import { copyInto } from './copy.ts';
import { fetchUrl } from './fetch-url.ts';
import type { Instruction, ParsedDockerfile } from './dockerfile/ast.ts';
import { parseDockerfile, parseText, parseTriggers, parseGoDuration } from './dockerfile/parser.ts';
import { expandWord, expandWords, parseKeyValues } from './dockerfile/expand.ts';
import { exposedPorts } from './values.ts';

export interface BuildRequest {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  target?: string;
  labels: Record<string, string>;
  noCache: boolean;
  /**
   * `cachefrom`: when given, a cached step counts only if its image is one of these images or
   * one of their parents (moby image/cache ImageCache: sources instead of the whole local cache).
   */
  cacheFrom?: string[];
  pull: boolean;
  /** Remove intermediate containers after a successful step (default true) / always. */
  rm: boolean;
  forceRm: boolean;
  quiet: boolean;
  networkMode: string;
  platform?: string;
  extraHosts: string[];
  resources: Record<string, unknown>;
  /** Registry credentials by registry host (X-Registry-Config). */
  auth: Record<string, AuthConfig>;
}

export interface BuildOutput {
  /** A `{"stream": …}` line (suppressed in quiet mode by the caller's choice). */
  stream(text: string): void;
  aux(value: unknown): void;
}

/** Args every build knows without an ARG line (moby's builtinAllowedBuildArgs). */
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A string list as Go's %q prints it, which is what moby writes into history: `["a" "b"]`. */
function goQuoted(list: string[]): string {
  return `[${list.map((x) => JSON.stringify(x)).join(' ')}]`;
}

interface Stage {
  name?: string;
  image?: BaseImage;
  config: ImageConfigFile;
  /** ARGs declared in this stage, with their values. */
  args: Map<string, string | undefined>;
  /** CMD set in this stage (an ENTRYPOINT after it keeps it). */
  cmdSet: boolean;
}

function blankConfig(platform: { os: string; architecture: string }): ImageConfigFile {
  return { architecture: platform.architecture, os: platform.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

/** Flags an instruction allows; anything else is Docker's `Unknown flag`. */
const FLAGS: Record<string, string[]> = {
  from: ['platform'], copy: ['from', 'chown', 'chmod', 'link'], add: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir'],
  run: ['network', 'mount', 'security'], healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

function flag(ins: Instruction, name: string): string | undefined {
  return ins.flags.filter((f) => f.name === name).pop()?.value;
}

function checkFlags(ins: Instruction): void {
  const ok = FLAGS[ins.cmd] ?? [];
  for (const f of ins.flags) if (!ok.includes(f.name)) throw new InvalidParameter(`Unknown flag: ${f.name}`);
}

export class Builder {
  private readonly backend: BuildBackend;
  private readonly cache: BuildCache;
  private readonly ctx: BuildContext;
  private readonly req: BuildRequest;
  private readonly out: BuildOutput;
  private escape: '\\' | '`' = '\\';
  /** The images `cacheFrom` names and their parents, found at the first cached step. */
  private cacheSources?: Set<string>;
  private stages: Stage[] = [];
  private metaArgs = new Map<string, string | undefined>();
  private usedArgs = new Set<string>();
  private step = 0;
  private total = 0;

  constructor(o: { backend: BuildBackend; cache: BuildCache; context: BuildContext; request: BuildRequest; output: BuildOutput }) {
    this.backend = o.backend;
    this.cache = o.cache;
    this.ctx = o.context;
    this.req = o.request;
    this.out = o.output;
  }

  /** Parses first, so a bad Dockerfile fails before anything was printed. */
  static parse(text: string): ParsedDockerfile {
    return parseDockerfile(text);
  }

  async build(df: ParsedDockerfile): Promise<string> {
    this.escape = df.directives.escape;
    let instructions = df.instructions;
    // --target: build up to the end of that stage.
    if (this.req.target) {
      const t = this.req.target.toLowerCase();
      const idx = instructions.findIndex((i) => i.cmd === 'from' && this.stageNameOf(i) === t);
      if (idx < 0) throw new InvalidParameter(`failed to reach build target ${this.req.target} in Dockerfile`);
      const next = instructions.findIndex((i, n) => n > idx && i.cmd === 'from');
      if (next >= 0) instructions = instructions.slice(0, next);
    }
    if (!instructions.some((i) => i.cmd === 'from')) throw new InvalidParameter('No build stage in current context');
    const labelLine = Object.keys(this.req.labels).length
      ? `LABEL ${Object.entries(this.req.labels).map(([k, v]) => `${JSON.stringify(k)}='${v.replace(/'/g, "'\\''")}'`).join(' ')}`
      : undefined;
    const extra = labelLine ? parseText(labelLine).instructions : [];
    const all = [...instructions, ...extra];
    this.total = all.length;
    try {
      for (const ins of all) {
        this.step++;
        this.out.stream(`Step ${this.step}/${this.total} : ${ins.original}\n`);
        await this.dispatch(ins);
      }
    } finally {
      await this.cache.flush((id) => this.backend.hasImage(id)).catch(() => {});
    }
    const last = this.stages[this.stages.length - 1]!;
    const image = last.image ?? await this.backend.configImage(undefined, last.config);
    const unused = Object.keys(this.req.buildArgs).filter((k) => !this.usedArgs.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length) this.out.stream(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed\n`);
    this.out.aux({ ID: image.id });
    this.out.stream(`Successfully built ${shortId(image.id)}\n`);
    for (const t of this.req.tags) {
      await this.backend.tag(image.id, t);
      this.out.stream(`Successfully tagged ${t}\n`);
    }
    return image.id;
  }

  private stageNameOf(ins: Instruction): string | undefined {
    const words = ins.args.length === 1 && !ins.json ? ins.args[0]!.trim().split(/\s+/) : ins.args;
    return words.length === 3 && words[1]!.toLowerCase() === 'as' ? words[2]!.toLowerCase() : undefined;
  }

  private get stage(): Stage {
    const s = this.stages[this.stages.length - 1];
    if (!s) throw new InvalidParameter('Please provide a source image with `from` prior to commit');
    return s;
  }

  /** Variables an instruction's words expand with: the stage's ARGs under its ENV. */
  private env(): (name: string) => string | undefined {
    const s = this.stages[this.stages.length - 1];
    if (!s) return (n) => this.metaArgs.get(n);
    const envMap = new Map<string, string>();
    for (const [k, v] of s.args) if (v !== undefined) envMap.set(k, v);
    for (const e of s.config.config?.Env ?? []) {
      const i = e.indexOf('=');
      envMap.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return (n) => envMap.get(n);
  }

  private shell(): string[] {
    return (this.stage.config.config?.Shell as string[] | undefined) ?? DEFAULT_SHELL;
  }

  private argValue(name: string, dflt: string | undefined): string | undefined {
    if (Object.hasOwn(this.req.buildArgs, name)) {
      this.usedArgs.add(name);
      const v = this.req.buildArgs[name];
      return v ?? dflt;
    }
    return dflt;
  }

  private async dispatch(ins: Instruction): Promise<void> {
    checkFlags(ins);
    const env = this.env();
    const text = (): string => (ins.json ? ins.args.join(' ') : ins.args[0] ?? '');
    switch (ins.cmd) {
      case 'from': return this.from(ins);
      case 'arg': return this.arg(ins);
      case 'run': return this.run(ins);
      case 'copy': case 'add': return this.copy(ins);
      case 'workdir': return this.workdir(ins);
      case 'env': {
        const pairs = parseKeyValues(text(), 'ENV', env, this.escape);
        const cfg = this.cfg();
        const list = [...(cfg.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = list.findIndex((e) => e === k || e.startsWith(`${k}=`));
          if (i >= 0) list[i] = `${k}=${v ?? ''}`; else list.push(`${k}=${v ?? ''}`);
        }
        cfg.Env = list;
        return this.commitConfig(ins, `ENV ${pairs.map(([k, v]) => `${k}=${v ?? ''}`).join(' ')}`);
      }
      case 'label': {
        const pairs = parseKeyValues(text(), 'LABEL', env, this.escape);
        const cfg = this.cfg();
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of pairs) cfg.Labels[k] = v ?? '';
        return this.commitConfig(ins, `LABEL ${pairs.map(([k, v]) => `${k}=${v ?? ''}`).join(' ')}`);
      }
      case 'maintainer': {
        this.stage.config.author = text().trim();
        return this.commitConfig(ins, `MAINTAINER ${text().trim()}`);
      }
      case 'expose': {
        const ports = exposedPorts(expandWords(text(), env, this.escape));
        const cfg = this.cfg();
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
        return this.commitConfig(ins, `EXPOSE ${ports.join(' ')}`);
      }
      case 'volume': {
        const vols = ins.json ? ins.args.map((a) => expandWord(a, env, this.escape)) : expandWords(text(), env, this.escape);
        if (!vols.length || vols.some((v) => v.trim() === '')) throw new InvalidParameter('VOLUME specified can not be an empty string');
        const cfg = this.cfg();
        cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        return this.commitConfig(ins, `VOLUME [${vols.join(' ')}]`);
      }
      case 'user': {
        const u = expandWord(text().trim(), env, this.escape);
        if (!u) throw new InvalidParameter('USER requires exactly one argument');
        this.cfg().User = u;
        return this.commitConfig(ins, `USER ${u}`);
      }
      case 'cmd': {
        const cmd = ins.json ? ins.args : [...this.shell(), text()];
        this.cfg().Cmd = cmd;
        this.stage.cmdSet = true;
        return this.commitConfig(ins, `CMD ${goQuoted(cmd)}`);
      }
      case 'entrypoint': {
        const ep = ins.json ? ins.args : [...this.shell(), text()];
        const cfg = this.cfg();
        cfg.Entrypoint = ep;
        if (!this.stage.cmdSet) cfg.Cmd = null;
        return this.commitConfig(ins, `ENTRYPOINT ${goQuoted(ep)}`);
      }
      case 'shell': {
        if (!ins.json) throw new InvalidParameter('SHELL requires the arguments to be in JSON form');
        if (!ins.args.length) throw new InvalidParameter('SHELL requires at least one argument');
        this.cfg().Shell = ins.args;
        return this.commitConfig(ins, `SHELL [${ins.args.join(' ')}]`);
      }
      case 'stopsignal': {
        const sig = expandWord(text().trim(), env, this.escape);
        parseStopSignal(sig);
        this.cfg().StopSignal = sig;
        return this.commitConfig(ins, `STOPSIGNAL ${sig}`);
      }
      case 'healthcheck': return this.healthcheck(ins);
      case 'onbuild': {
        const trigger = text().trim();
        const inner = parseTriggers([trigger])[0];
        if (!inner) throw new InvalidParameter('ONBUILD requires at least one argument');
        const cfg = this.cfg();
        const stored = `${inner.cmd.toUpperCase()}${trigger.slice(inner.cmd.length)}`;
        cfg.OnBuild = [...(cfg.OnBuild ?? []), stored];
        return this.commitConfig(ins, `ONBUILD ${stored}`);
      }
      default:
        throw new InvalidParameter(`dockerfile parse error on line ${ins.line}: unknown instruction: ${ins.cmd.toUpperCase()}`);
    }
  }

  private cfg(): ContainerConfigFields {
    const s = this.stage;
    s.config.config ??= {};
    return s.config.config;
  }

  // ---- images per step -----------------------------------------------------------------------

  /**
   * The config of the container a classic-builder step commits, which dockerd keeps in the image
   * as `container_config` (inspect's ContainerConfig below API 1.45) with that container's ID as
   * `container`: the stage's config at this step with the step's Cmd and the parent image.
   * A metadata, WORKDIR or COPY step (`cmd` starting `#(nop)`) commits the config its container
   * was created from, which dockerd's create filled in (hostname = short ID, Labels {} for none);
   * Berth makes no container there, so the ID names the step as dockerd's removed one did. A RUN
   * commits the cache-probe config moby builds: no Entrypoint, nothing filled in.
   */
  private stepContainer(cmd: string[], runContainerId?: string): { container: string; container_config: ContainerConfigFields } {
    const cfg = structuredClone(this.stage.config.config ?? {});
    const base = {
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
      Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
      WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
    };
    // Go's zero values where the stage's config has no key (a container.Config marshals them all).
    const cc = { ...base, ...cfg, Cmd: cmd, Image: this.parentId() } as Record<string, unknown>;
    if (runContainerId !== undefined) {
      cc.Entrypoint = null;
      return { container: runContainerId, container_config: cc as ContainerConfigFields };
    }
    const container = newId();
    cc.Hostname = container.slice(0, 12);
    cc.Labels ??= {};
    return { container, container_config: cc as ContainerConfigFields };
  }

  private nextConfig(createdBy: string, diffId?: string, step?: { container: string; container_config: ContainerConfigFields }): ImageConfigFile {
    const s = this.stage;
    const now = new Date().toISOString();
    const history: HistoryEntry = { created: now, created_by: createdBy, ...(diffId ? {} : { empty_layer: true }) };
    const c: ImageConfigFile = structuredClone(s.config);
    c.created = now;
    c.history = [...(c.history ?? []), history];
    if (diffId) c.rootfs = { type: 'layers', diff_ids: [...(c.rootfs?.diff_ids ?? []), diffId] };
    delete c.container;
    delete c.container_config;
    if (step) { c.container = step.container; c.container_config = step.container_config; }
    return c;
  }

  private cached(key: string): BaseImage | undefined {
    if (this.req.noCache) return undefined;
    const id = this.cache.get(key, (i) => this.backend.hasImage(i));
    if (id && this.req.cacheFrom?.length) {
      // names that are no image are skipped, as moby's MakeImageCache does
      this.cacheSources ??= new Set(this.req.cacheFrom.flatMap((ref) => this.backend.lineage(ref)));
      if (!this.cacheSources.has(id)) return undefined;
    }
    return id ? { id, config: undefined as unknown as ImageConfigFile } : undefined;
  }

  /** The step's result becomes the stage's image; ` ---> id` is printed. */
  private adopt(image: BaseImage, fromCache: boolean): void {
    if (fromCache) this.out.stream(' ---> Using cache\n');
    const s = this.stage;
    s.image = image;
    if (image.config) s.config = structuredClone(image.config);
    this.out.stream(` ---> ${shortId(image.id)}\n`);
  }

  private async useCached(key: string): Promise<boolean> {
    const hit = this.cached(key);
    if (!hit) return false;
    const img = await this.backend.image(hit.id, { pull: false, output: () => {} });
    // The stage's state that is not in the image (cmdSet) carries on as it was.
    this.adopt(img, true);
    return true;
  }

  private parentId(): string {
    return this.stage.image?.id ?? '';
  }

  /** A metadata step: a new image with the same layers and this config (`#(nop)` in history). */
  private async commitConfig(ins: Instruction, what: string): Promise<void> {
    const createdBy = `${this.shell().join(' ')} #(nop)  ${what}`;
    const key = BuildCache.key(this.parentId(), `${JSON.stringify(this.stage.config.config)}\n${this.stage.config.author ?? ''}\n${createdBy}`);
    if (await this.useCached(key)) return;
    const img = await this.backend.configImage(this.stage.image, this.nextConfig(createdBy, undefined, this.stepContainer([...this.shell(), '#(nop) ', what])));
    this.cache.set(key, img.id);
    this.adopt(img, false);
    void ins;
  }

  // ---- FROM / ARG ----------------------------------------------------------------------------

  private async from(ins: Instruction): Promise<void> {
    const words = ins.json ? ins.args : expandWords(ins.args[0] ?? '', (n) => this.metaArgs.get(n), this.escape);
    if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) {
      throw new InvalidParameter('FROM requires either one or three arguments');
    }
    const ref = words[0]!;
    for (const name of this.metaArgs.keys()) if (ins.original.includes(name)) this.usedArgs.add(name);
    const name = words.length === 3 ? words[2]!.toLowerCase() : undefined;
    if (name && this.stages.some((s) => s.name === name)) throw new InvalidParameter(`duplicate name ${name}`);
    const platform = flag(ins, 'platform') ? expandWord(flag(ins, 'platform')!, (n) => this.metaArgs.get(n), this.escape) : this.req.platform;
    let image: BaseImage | undefined;
    const prior = this.stages.find((s) => s.name === ref.toLowerCase());
    if (ref.toLowerCase() === 'scratch') {
      image = undefined;
    } else if (prior) {
      image = prior.image ?? await this.backend.configImage(undefined, prior.config);
    } else {
      image = await this.backend.image(ref, { pull: this.req.pull, platform, auth: this.authFor(ref), output: (l) => this.out.stream(l) });
    }
    const [os, arch] = (platform ?? `linux/${goArch()}`).split('/');
    const config = image ? structuredClone(image.config) : blankConfig({ os: os ?? 'linux', architecture: arch ?? goArch() });
    config.config ??= {};
    // moby's beginStage (setDefaultPath): a stage without PATH gets the default one, so it is
    // in the Env of every image the classic builder makes.
    const env = (config.config.Env as string[] | null | undefined) ?? [];
    if (!env.some((e) => e.startsWith('PATH='))) config.config.Env = [...env, DEFAULT_PATH];
    const stage: Stage = { name, image, config, args: new Map(), cmdSet: false };
    this.stages.push(stage);
    this.out.stream(` ---> ${image ? shortId(image.id) : ''}\n`);
    const triggers = (config.config.OnBuild as string[] | null | undefined) ?? [];
    if (triggers.length) {
      config.config.OnBuild = null;
      this.out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        for (const inner of parseTriggers([t])) await this.dispatch(inner);
      }
    }
  }

  private authFor(ref: string): AuthConfig | undefined {
    const host = ref.includes('/') && /[.:]|^localhost\//.test(ref.split('/')[0]!) ? ref.split('/')[0]! : 'https://index.docker.io/v1/';
    return this.req.auth[host] ?? this.req.auth[`https://${host}`] ?? this.req.auth[`http://${host}`];
  }

  private async arg(ins: Instruction): Promise<void> {
    const pairs = parseKeyValues(ins.args[0] ?? '', 'ARG', this.env(), this.escape);
    if (!this.stages.length) {
      for (const [k, v] of pairs) this.metaArgs.set(k, this.argValue(k, v));
      return;
    }
    const s = this.stage;
    for (const [k, v] of pairs) {
      const dflt = v ?? this.metaArgs.get(k);
      s.args.set(k, this.argValue(k, dflt));
    }
    await this.commitConfig(ins, `ARG ${pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`);
  }

  // ---- RUN -----------------------------------------------------------------------------------

  private async run(ins: Instruction): Promise<void> {
    const s = this.stage;
    if (!s.image) throw new InvalidParameter('RUN needs a base image: the stage starts FROM scratch and has no files');
    const heredoc = ins.heredocs[0];
    let cmd: string[];
    if (ins.json) cmd = ins.args;
    else if (heredoc && (ins.args[0] ?? '').trim().startsWith('<<')) cmd = [...this.shell(), heredoc.content];
    else cmd = [...this.shell(), ins.args[0] ?? ''];
    // Build args the RUN sees: declared ones with a value, unless an ENV of the same name wins.
    const envNames = new Set((s.config.config?.Env ?? []).map((e) => e.split('=')[0]!));
    const argEnv = [...s.args].filter(([k, v]) => v !== undefined && !envNames.has(k)).map(([k, v]) => `${k}=${v}`).sort();
    const proxies = PROXY_ARGS.filter((k) => this.req.buildArgs[k] != null).map((k) => { this.usedArgs.add(k); return `${k}=${this.req.buildArgs[k]}`; });
    const createdBy = argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ${cmd.join(' ')}` : cmd.join(' ');
    const key = BuildCache.key(this.parentId(), `RUN\n${JSON.stringify(s.config.config)}\n${createdBy}`);
    if (await this.useCached(key)) return;
    const cfg = s.config.config ?? {};
    let env = [...(cfg.Env ?? [])];
    if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
    // moby's prependEnvOnCmd: the build args a RUN saw are part of its committed Cmd.
    const saveCmd = argEnv.length ? [`|${argEnv.length}`, ...argEnv, ...cmd] : cmd;
    let runContainerId = '';
    const result = await this.backend.run(s.image, {
      cmd, env: [...env, ...argEnv, ...proxies], user: cfg.User ?? '', workingDir: cfg.WorkingDir ?? '',
      networkMode: this.req.networkMode, extraHosts: this.req.extraHosts, resources: this.req.resources,
    }, {
      // moby's streamformatter.NewStderrWriter: each stderr write in red, \x1b[91m…\x1b[0m
      output: (chunk, stderr) => this.out.stream(stderr ? `\x1b[91m${chunk.toString('utf8')}\x1b[0m` : chunk.toString('utf8')),
      onStart: (cid) => { runContainerId = cid; this.out.stream(` ---> Running in ${shortId(cid)}\n`); },
      config: (diffId) => this.nextConfig(createdBy, diffId, this.stepContainer(saveCmd, runContainerId)),
      keepOnFailure: !this.req.rm && !this.req.forceRm,
    });
    if (result.exitCode !== 0) {
      throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${result.exitCode}`, result.exitCode);
    }
    if (this.req.rm || this.req.forceRm) this.out.stream(`Removing intermediate container ${shortId(result.containerId)}\n`);
    this.cache.set(key, result.image!.id);
    this.adopt(result.image!, false);
  }

  // ---- COPY / ADD / WORKDIR ------------------------------------------------------------------

  private async workdir(ins: Instruction): Promise<void> {
    const raw = expandWord((ins.args[0] ?? '').trim(), this.env(), this.escape);
    if (!raw) throw new InvalidParameter('WORKDIR requires exactly one argument');
    const cfg = this.cfg();
    const dir = posix.isAbsolute(raw) ? posix.normalize(raw) : posix.join('/', cfg.WorkingDir || '/', raw);
    cfg.WorkingDir = dir;
    const createdBy = `${this.shell().join(' ')} #(nop) WORKDIR ${dir}`;
    const key = BuildCache.key(this.parentId(), `${JSON.stringify(cfg)}\n${createdBy}`);
    if (await this.useCached(key)) return;
    const img = await this.backend.layerImage(this.stage.image, async (root, shift) => {
      await copyInto({ srcRoot: root, sources: [], destRoot: root, dest: `${dir}/`, unpackArchives: false, shift, instruction: 'WORKDIR' });
    }, (diffId) => this.nextConfig(createdBy, diffId, this.stepContainer([...this.shell(), `#(nop) WORKDIR ${dir}`])));
    this.cache.set(key, img.id);
    this.adopt(img, false);
  }

  private async copy(ins: Instruction): Promise<void> {
    const isAdd = ins.cmd === 'add';
    const name = ins.cmd.toUpperCase();
    const env = this.env();
    let words = ins.json ? ins.args.map((a) => expandWord(a, env, this.escape)) : expandWords(ins.args[0] ?? '', env, this.escape);
    const heredocSources = ins.heredocs.filter((h) => words.includes(`<<${h.name}`) || words.includes(`<<-${h.name}`));
    if (words.length < 2) throw new InvalidParameter(`${name} requires at least two arguments, but got ${words.length}`);
    const destRaw = words[words.length - 1]!;
    words = words.slice(0, -1).filter((w) => !/^<<-?/.test(w));
    const cfg = this.cfg();
    const dest = posix.isAbsolute(destRaw) ? destRaw : `${posix.join('/', cfg.WorkingDir || '/', destRaw)}${destRaw.endsWith('/') || destRaw === '.' ? '/' : ''}`;
    const chownSpec = flag(ins, 'chown') ? expandWord(flag(ins, 'chown')!, env, this.escape) : undefined;
    const chmodSpec = flag(ins, 'chmod');
    if (chmodSpec !== undefined && !/^[0-7]{3,4}$/.test(chmodSpec)) throw new InvalidParameter(`invalid chmod parameter: ${chmodSpec}. it should be octal string and between 0 and 07777`);
    const mode = chmodSpec !== undefined ? parseInt(chmodSpec, 8) : undefined;
    const fromRef = flag(ins, 'from');

    // Where the sources come from, and what keys the cache.
    let fromImage: BaseImage | undefined;
    if (fromRef !== undefined) {
      if (isAdd) throw new InvalidParameter('Unknown flag: from');
      const f = expandWord(fromRef, env, this.escape);
      const byName = this.stages.find((s) => s.name === f.toLowerCase());
      const byIndex = /^\d+$/.test(f) ? this.stages[Number(f)] : undefined;
      if (/^\d+$/.test(f) && !byIndex) throw new InvalidParameter(`invalid from flag value ${f}: index out of bounds`);
      const st = byName ?? byIndex;
      if (st === this.stage) throw new InvalidParameter(`${name} --from cannot refer to the stage it is in`);
      fromImage = st ? (st.image ?? await this.backend.configImage(undefined, st.config))
        : await this.backend.image(f, { pull: this.req.pull, auth: this.authFor(f), output: (l) => this.out.stream(l) });
    }
    const urls = isAdd ? words.filter((w) => /^https?:\/\//.test(w)) : [];
    const local = words.filter((w) => !urls.includes(w));
    let sources: string[] = [];
    let contentKey: string;
    if (fromImage) {
      sources = local.map((w) => posix.normalize(`/${w}`));
      contentKey = `from:${fromImage.id}:${JSON.stringify(sources)}`;
    } else {
      sources = await this.ctx.sources(local, name);
      contentKey = `ctx:${await this.ctx.hash(sources)}`;
    }
    const fetched = await Promise.all(urls.map((u) => fetchUrl(u)));
    for (const f of fetched) contentKey += `:url:${f.digest}`;
    for (const h of heredocSources) contentKey += `:heredoc:${h.name}:${h.content}`;
    const count = sources.length + urls.length + heredocSources.length;
    const kind = count > 1 ? 'multi' : urls.length ? 'file' : sources[0] === '' ? 'dir' : 'file';
    const createdBy = `${this.shell().join(' ')} #(nop) ${name} ${kind}:${contentKey.slice(-64).replace(/[^0-9a-f]/g, '').padStart(8, '0')} in ${dest} `;
    const key = BuildCache.key(this.parentId(), `${name}\n${JSON.stringify(cfg)}\n${dest}\n${chownSpec ?? ''}\n${chmodSpec ?? ''}\n${contentKey}`);
    if (await this.useCached(key)) { await Promise.all(fetched.map((f) => f.discard())); return; }

    const img = await this.backend.layerImage(this.stage.image, async (root, shift) => {
      const owner = chownSpec ? await ownerIn(root, chownSpec) : undefined;
      const destIsDir = count > 1 || dest.endsWith('/');
      if (count > 1 && !dest.endsWith('/')) {
        throw new InvalidParameter(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
      }
      const copyFrom = async (srcRoot: string): Promise<void> => {
        if (sources.length) await copyInto({ srcRoot, sources, destRoot: root, dest: destIsDir && !dest.endsWith('/') ? `${dest}/` : dest, owner, mode, unpackArchives: isAdd && !fromImage, shift, instruction: name });
      };
      if (fromImage) await this.backend.withImageRoot(fromImage, copyFrom);
      else await copyFrom(await this.ctx.root());
      for (const f of fetched) {
        await copyInto({ srcRoot: f.dir, sources: [f.name], destRoot: root, dest, owner, mode: mode ?? 0o600, unpackArchives: false, shift, instruction: name });
      }
      for (const h of heredocSources) {
        const dir = await writeHeredoc(h.name, h.content);
        try {
          await copyInto({ srcRoot: dir, sources: [h.name], destRoot: root, dest, owner, mode, unpackArchives: false, shift, instruction: name });
        } finally { await rmDir(dir); }
      }
    }, (diffId) => this.nextConfig(createdBy, diffId, this.stepContainer([...this.shell(), createdBy.slice(this.shell().join(' ').length + 1)])))
      .finally(() => Promise.all(fetched.map((f) => f.discard())));
    this.cache.set(key, img.id);
    this.adopt(img, false);
  }

  private async healthcheck(ins: Instruction): Promise<void> {
    const cfg = this.cfg();
    // The parser gives [type, …exec words] (JSON form) or [type, shell command].
    const keyword = (ins.args[0] ?? '').toUpperCase();
    if (keyword === 'NONE') {
      cfg.Healthcheck = { Test: ['NONE'] };
      return this.commitConfig(ins, 'HEALTHCHECK NONE');
    }
    if (keyword !== 'CMD') throw new InvalidParameter(`Unknown type "${ins.args[0] ?? ''}" in HEALTHCHECK (try CMD)`);
    const test = ins.json ? ['CMD', ...ins.args.slice(1)] : ['CMD-SHELL', ins.args[1] ?? ''];
    const hc: Record<string, unknown> = { Test: test };
    const dur = (n: string, field: string): void => {
      const v = flag(ins, n);
      if (v !== undefined) hc[field] = parseGoDuration(v);
    };
    dur('interval', 'Interval');
    dur('timeout', 'Timeout');
    dur('start-period', 'StartPeriod');
    dur('start-interval', 'StartInterval');
    const retries = flag(ins, 'retries');
    if (retries !== undefined) {
      const n = Number(retries);
      if (!Number.isInteger(n) || n < 0) throw new InvalidParameter(`--retries cannot be negative (${retries})`);
      hc.Retries = n;
    }
    cfg.Healthcheck = hc;
    return this.commitConfig(ins, `HEALTHCHECK &{${JSON.stringify(test)} ${JSON.stringify(hc)}}`);
  }
}

/** A failed RUN: the CLI exits with its code (errorDetail.code). */
export class BuildStepError extends BerthError {
  override readonly status = 400;
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

async function ownerIn(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const u = await resolveUser(root, spec).catch((e: Error) => {
    throw new InvalidParameter(`unable to convert uid/gid chown string to host mapping: ${e.message}`);
  });
  return { uid: u.uid, gid: u.gid };
}

async function writeHeredoc(name: string, content: string): Promise<string> {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(posix.join(tmpdir(), 'berth-heredoc-'));
  await writeFile(posix.join(dir, name), content, { mode: 0o644 });
  return dir;
}

async function rmDir(dir: string): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
}

export { NotFound };
