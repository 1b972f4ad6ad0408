// IPv4 forwarding, which bridge networks need for their containers' traffic to leave the host,
// and what turning it on must not do: make the host a router for everyone. berthd sets the
// filter FORWARD policy to DROP before it writes ip_forward=1 (moby's setupIPv4Forwarding sets it
// after, leaving a moment of open routing), so that only what Berth's chains accept is routed:
// its containers' own traffic, replies to it, and published ports.
//
// dockerd (27.x, 28.x) sets the policy only when it is the one that flips ip_forward from 0 to 1;
// a host that already forwarded keeps its policy. Berth cannot tell a forwarding turned on by the
// admin from one left on by an earlier berthd (the usual case after the first run, until a
// reboot), so it sets DROP whenever it enables forwarding. A host that is meant to route other
// traffic opts out with `--ip-forward-no-drop` (daemon.json `ip-forward-no-drop`, dockerd's name);
// the per-bridge rules of network/firewall.ts still keep neighbours out of the containers then.
import { readFile, writeFile } from 'node:fs/promises';
import { run } from '../sys/exec.ts';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The filter FORWARD chain's policy as iptables-save prints it (`:FORWARD DROP [0:0]`). */
export function parseForwardPolicy(filterSave: string): string | undefined {
  return /^:FORWARD (\S+)/m.exec(filterSave)?.[1];
}

/** The current filter FORWARD policy (ACCEPT or DROP). */
export async function forwardPolicy(): Promise<string | undefined> {
  const { stdout } = await run('iptables-save', ['-t', 'filter']);
  return parseForwardPolicy(stdout);
}

/**
 * Turns IPv4 forwarding on for a bridge network; unless `noDrop`, first makes the FORWARD policy
 * DROP (one iptables-restore, only when it is not DROP already). Idempotent; called for every
 * bridge berthd sets up. A policy that cannot be set is an error: forwarding stays as it was.
 */
export async function enableForwarding(o: { noDrop: boolean }): Promise<void> {
  if (!o.noDrop && (await forwardPolicy()) !== 'DROP') {
    await run('iptables-restore', ['--noflush', '-w', '5'], { input: '*filter\n:FORWARD DROP [0:0]\nCOMMIT\n' });
  }
  // A read-only /proc/sys (berthd in a container whose host forwards) was never an error
  // here: the write is tried only when forwarding is off.
  const now = await readFile(IP_FORWARD, 'utf8').catch(() => '');
  if (now.trim() !== '1') await writeFile(IP_FORWARD, '1\n').catch(() => undefined);
}
