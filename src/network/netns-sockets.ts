// Sockets opened inside a container's network namespace, held by berthd: what Docker's embedded
// DNS needs (moby's resolver binds 127.0.0.11 in the sandbox through a setns'd goroutine, and
// NATs the sandbox's 127.0.0.11:53 to its ports).
//
// Node cannot setns(2), and spawning a process per container costs tens of milliseconds, so one
// small helper runs beside berthd for its whole life: python3 (installed with Berth's
// dependencies), talking Node's own IPC protocol on the channel `child_process.spawn` sets up.
// For each request the helper setns()es into the namespace, binds a UDP socket and a listening
// TCP socket on 127.0.0.11 with ports the kernel picks, setns()es back, and passes both to
// berthd as NODE_HANDLE messages with the file descriptors attached (SCM_RIGHTS), which Node
// turns into a dgram.Socket and a net.Server (~1 ms). Then berthd installs the NAT rules that
// send the namespace's 127.0.0.11:53 to those ports (`nsenter --net nft -f -`, or
// iptables-restore without nft) — so port 53 stays free for a DNS server the container runs
// itself, as under dockerd. That spawn is the costly part (~5-15 ms): callers overlap it with
// the rest of a container's start.
//
// The namespace then lives on as long as berthd holds the sockets: the caller must close them
// when the container's network goes. The rules go with the namespace.
//
// The helper exits when berthd does (its channel closes); a helper that died is started again at
// the next request. Requests are answered in order, one at a time, and each has a timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import type net from 'node:net';
import { System, Unavailable } from '../errors.ts';
import { run } from '../sys/exec.ts';

export interface NetnsDnsSockets {
  udp: dgram.Socket;
  tcp: net.Server;
  udpPort: number;
  tcpPort: number;
}

/** The address Docker's embedded DNS answers on in every container on a user network. */
export const RESOLVER_IP = '127.0.0.11';

const HELPER = String.raw`
import os, sys, json, socket, ctypes, array
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
chan = socket.socket(fileno=int(os.environ['NODE_CHANNEL_FD']))
home = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
IP = '127.0.0.11'

def send(obj, fd=None):
    data = (json.dumps(obj) + '\n').encode()
    if fd is None:
        chan.sendall(data)
    else:
        chan.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [fd]))])

def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'setns: ' + os.strerror(e))

def serve(m):
    fd = os.open(m['netns'], os.O_RDONLY | os.O_CLOEXEC)
    u = t = None
    try:
        setns(fd)
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((IP, 0))
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((IP, 0))
            t.listen(128)
        finally:
            setns(home)
        send({'cmd': 'NODE_HANDLE', 'type': 'dgram.Socket', 'dgramType': 'udp4', 'msg': {'id': m['id'], 'kind': 'udp', 'port': u.getsockname()[1]}}, u.fileno())
        send({'cmd': 'NODE_HANDLE', 'type': 'net.Server', 'msg': {'id': m['id'], 'kind': 'tcp', 'port': t.getsockname()[1]}}, t.fileno())
    finally:
        os.close(fd)
        for s in (u, t):
            if s is not None:
                s.close()

buf = b''
while True:
    d = chan.recv(65536)
    if not d:
        break
    buf += d
    while b'\n' in buf:
        line, buf = buf.split(b'\n', 1)
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if str(m.get('cmd', '')).startswith('NODE_'):
            continue
        try:
            serve(m)
        except Exception as e:
            send({'id': m.get('id'), 'error': str(e)})
`;

interface Pending {
  resolve: (s: NetnsDnsSockets) => void;
  reject: (e: Error) => void;
  udp?: { sock: dgram.Socket; port: number };
  tcp?: { server: net.Server; port: number };
  timer: NodeJS.Timeout;
}

interface HelperMessage { id?: number; kind?: 'udp' | 'tcp'; port?: number; error?: string }

export class NetnsSocketOpener {
  #child: ChildProcess | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #python: string;
  readonly #timeoutMs: number;

  constructor(o: { python?: string; timeoutMs?: number } = {}) {
    // Debian's own python3 first: a PATH python (pyenv, venv) may lack ctypes or be slow to start.
    this.#python = o.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    this.#timeoutMs = o.timeoutMs ?? 5000;
  }

  /** Starts the helper ahead of the first request (its start-up costs ~100 ms). */
  warm(): void {
    try { this.#helper(); } catch { /* reported at the first request */ }
  }

  /**
   * A UDP socket and a TCP listener on 127.0.0.11 inside the namespace at `netnsPath`, its port 53
   * NATed to them. `replace`: rules from an earlier berthd may be there (restore).
   */
  async open(netnsPath: string, o: { replace?: boolean } = {}): Promise<NetnsDnsSockets> {
    const s = await this.#open(netnsPath);
    try {
      await natRules(netnsPath, s.udpPort, s.tcpPort, o.replace ?? false);
    } catch (err) {
      closeHandle(s.udp);
      closeHandle(s.tcp);
      throw err;
    }
    return s;
  }

  #open(netnsPath: string): Promise<NetnsDnsSockets> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try { child = this.#helper(); } catch (err) { reject(err as Error); return; }
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#fail(id, new Unavailable(`embedded DNS: no sockets for ${netnsPath} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      child.send({ id, netns: netnsPath }, (err) => {
        if (err) this.#fail(id, new Unavailable(`embedded DNS helper: ${err.message}`));
      });
    });
  }

  /** Stops the helper (berthd's shutdown); requests under way fail. */
  close(): void {
    const c = this.#child;
    this.#child = undefined;
    if (c && c.exitCode === null) c.kill('SIGKILL');
    for (const id of [...this.#pending.keys()]) this.#fail(id, new Unavailable('embedded DNS helper stopped'));
  }

  #helper(): ChildProcess {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null && this.#child.connected) return this.#child;
    const child = spawn(this.#python, ['-I', '-S', '-c', HELPER], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-2000); });
    child.on('error', (err) => {
      if (this.#child === child) this.#child = undefined;
      this.#failAll(new Unavailable(`embedded DNS helper (${this.#python}) could not start: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      this.#failAll(new System(`embedded DNS helper exited (${code ?? signal})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
    child.on('message', (m: HelperMessage, handle?: dgram.Socket | net.Server) => { this.#onMessage(m, handle); });
    // The helper must not keep berthd's event loop alive; its channel is unref'd too.
    child.unref();
    child.channel?.unref();
    this.#child = child;
    return child;
  }

  #onMessage(m: HelperMessage, handle?: dgram.Socket | net.Server): void {
    const p = m.id !== undefined ? this.#pending.get(m.id) : undefined;
    if (!p) { closeHandle(handle); return; }
    if (m.error !== undefined) { this.#fail(m.id!, new System(`embedded DNS: ${m.error}`)); return; }
    if (m.kind === 'udp' && handle) p.udp = { sock: handle as dgram.Socket, port: m.port ?? 0 };
    else if (m.kind === 'tcp' && handle) p.tcp = { server: handle as net.Server, port: m.port ?? 0 };
    else closeHandle(handle);
    if (p.udp && p.tcp) {
      clearTimeout(p.timer);
      this.#pending.delete(m.id!);
      p.resolve({ udp: p.udp.sock, tcp: p.tcp.server, udpPort: p.udp.port, tcpPort: p.tcp.port });
    }
  }

  #fail(id: number, err: Error): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    closeHandle(p.udp?.sock);
    closeHandle(p.tcp?.server);
    p.reject(err);
  }

  #failAll(err: Error): void {
    for (const id of [...this.#pending.keys()]) this.#fail(id, err);
  }
}

function closeHandle(h: dgram.Socket | net.Server | undefined): void {
  try { h?.close(); } catch { /* already closed */ }
}

let nftPresent: boolean | undefined;

/**
 * The namespace's 127.0.0.11:53 (UDP and TCP) to the sockets' ports, in the nat OUTPUT hook: the
 * queries of the container's own processes. nft when installed (one netlink transaction), else
 * iptables-restore in the nat table.
 */
async function natRules(netnsPath: string, udpPort: number, tcpPort: number, replace: boolean): Promise<void> {
  nftPresent ??= existsSync('/usr/sbin/nft') || existsSync('/sbin/nft');
  const ns = `--net=${netnsPath}`;
  if (nftPresent) {
    const text = `${replace ? 'table ip berth_dns {}\ndelete table ip berth_dns\n' : ''}table ip berth_dns {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr ${RESOLVER_IP} udp dport 53 dnat to ${RESOLVER_IP}:${udpPort}
    ip daddr ${RESOLVER_IP} tcp dport 53 dnat to ${RESOLVER_IP}:${tcpPort}
  }
}
`;
    await run('nsenter', [ns, 'nft', '-f', '-'], { input: text, timeoutMs: 10_000 });
    return;
  }
  // Without --noflush only the nat table is replaced; Berth puts nothing else in it.
  const text = `*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d ${RESOLVER_IP}/32 -p udp -m udp --dport 53 -j DNAT --to-destination ${RESOLVER_IP}:${udpPort}
-A OUTPUT -d ${RESOLVER_IP}/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination ${RESOLVER_IP}:${tcpPort}
COMMIT
`;
  await run('nsenter', [ns, 'iptables-restore', '-w'], { input: text, timeoutMs: 10_000 });
}
