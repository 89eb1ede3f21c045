// Starts the local cluster's daemons as detached processes, each inside a node's network and
// UTS namespaces (nsenter --net --uts: the host's mount namespace stays shared, so kubelet's volume
// mounts are visible to containerd) and inside the cluster's cgroup, so that down() can
// stop exactly what this cluster started: first by recorded pid, then every process left
// in its cgroups (containerd shims, pods).
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CGROUP_PARENT } from './layout.js';

const CGROUP_FS = '/sys/fs/cgroup';

export interface Daemon {
  component: string;
  pid: number;
  log: string;
  /** How it was started, so a fault test can stop and start it again. */
  start: StartOptions;
}

/** The cgroup v1 hierarchies mounted here (cpu, memory, pids, ..., name=systemd), by mount dir. */
export function cgroupHierarchies(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'cgroup' && f[1].startsWith(`${CGROUP_FS}/`))
    .map((f) => f[1]);
}

/** Creates a cgroup path in every hierarchy; cpuset needs its cpus and mems filled in. */
export async function createCgroup(path: string): Promise<void> {
  for (const hierarchy of cgroupHierarchies()) {
    let dir = hierarchy;
    for (const part of path.split('/').filter(Boolean)) {
      const parent = dir;
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      await mkdir(dir);
      if (hierarchy.endsWith('/cpuset')) {
        for (const file of ['cpuset.cpus', 'cpuset.mems'])
          await writeFile(join(dir, file), readFileSync(join(parent, file)));
      }
    }
  }
}

export interface StartOptions {
  component: string;
  netns: string;
  /** The node's UTS namespace file (its hostname); none for processes of no node. */
  uts?: string;
  cgroup: string;
  logDir: string;
  command: string;
  args: string[];
}

/** Starts one daemon detached; it keeps running after this process exits. */
// eslint-disable-next-line @typescript-eslint/require-await -- async: a daemon that cannot start rejects, awaited like every step of up()
export async function startDaemon(o: StartOptions): Promise<Daemon> {
  const log = join(o.logDir, `${o.component}.log`);
  const fd = openSync(log, 'a');
  const procs = cgroupHierarchies().map((h) => join(h, o.cgroup, 'cgroup.procs'));
  // The shell joins the cgroups, then execs: the recorded pid is the daemon's own.
  const script = `for f in ${procs.join(' ')}; do echo $$ > "$f"; done; exec nsenter --net=/run/netns/${o.netns}${o.uts ? ` --uts=${o.uts}` : ''} -- "$@"`;
  const child = spawn('/bin/sh', ['-c', script, 'sh', o.command, ...o.args], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${o.component} (${o.command})`);
  return { component: o.component, pid: child.pid, log, start: o };
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

/** SIGTERM to each recorded daemon that is still the same program, then SIGKILL after graceMs. */
export async function stopDaemons(daemons: Daemon[], graceMs = 2000): Promise<void> {
  const ours = daemons.filter((d) => isRunning(d.pid) && sameCgroup(d.pid));
  for (const d of ours) process.kill(d.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (ours.some((d) => isRunning(d.pid)) && Date.now() < deadline) await sleep(100);
  for (const d of ours.filter((x) => isRunning(x.pid))) process.kill(d.pid, 'SIGKILL');
}

/** A recorded pid counts as ours only while it sits in our cgroup tree (pids get reused). */
function sameCgroup(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${CGROUP_PARENT}/`);
  } catch {
    return false;
  }
}

/** Kills every process left below a cgroup path (shims, pods) and removes the cgroups. */
export async function killCgroupTree(path: string, budgetMs = 10_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const pids = cgroupProcs(path);
    if (pids.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(`processes ${pids.join(', ')} in cgroup ${path} did not exit after ${budgetMs}ms`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await sleep(100);
  }
  for (const hierarchy of cgroupHierarchies()) await removeCgroupDirs(join(hierarchy, path));
}

/** The running processes in a cgroup tree of the pids controller (none when it does not exist). */
export function cgroupProcs(path: string): number[] {
  const dir = join(CGROUP_FS, 'pids', path);
  return existsSync(dir) ? procsBelow(dir) : [];
}

/** Live processes below a cgroup dir; zombies are dead already (this machine's init reaps them late). */
function procsBelow(dir: string): number[] {
  const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter(isRunning);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) pids.push(...procsBelow(join(dir, entry.name)));
  }
  return pids;
}

async function removeCgroupDirs(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await removeCgroupDirs(join(dir, entry.name));
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if (attempt >= 20) throw new Error(`could not remove cgroup ${dir}`, { cause: error });
      await sleep(100);
    }
  }
}

/** Memory in use by everything below a cgroup path (daemons, shims, pods), from cgroup v1. */
export function cgroupMemoryBytes(path: string): { usage: number; rss: number } {
  const dir = join(CGROUP_FS, 'memory', path);
  const stat = Object.fromEntries(
    readFileSync(join(dir, 'memory.stat'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
  return { usage: Number(readFileSync(join(dir, 'memory.usage_in_bytes'), 'utf8')), rss: Number(stat.total_rss ?? 0) };
}
