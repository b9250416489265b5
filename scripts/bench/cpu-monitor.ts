import { readdirSync, readFileSync } from 'fs';

/**
 * How much CPU the rest of the machine used while we measured. Other jobs share this VM; a figure taken while
 * they ran is not comparable, so the benchmark reports this and repeats runs that were disturbed.
 * Linux only (/proc); elsewhere every figure is undefined.
 */

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Snapshot {
  at: number;
  machineBusy: number;
  own: number;
  /** All of the machine's CPU time, and the part of it the hypervisor gave to other guests (steal). */
  machineTotal: number;
  stolen: number;
}

/** Fields of /proc/<pid>/stat after "pid (comm) ", so index 0 is the state and 1 the parent pid. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Ticks of user and system CPU in a stat's fields. */
function ticks(fields: string[]): number {
  return Number(fields[11]) + Number(fields[12]);
}

/** This process's running children: pid and stat fields (one that exits meanwhile is skipped). */
function* runningChildren(): Generator<{ pid: string; fields: string[] }> {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fields: string[];
    try {
      fields = statFields(readFileSync(`/proc/${entry}/stat`, 'utf8'));
    } catch {
      continue; // It exited meanwhile.
    }
    if (Number(fields[1]) === process.pid) yield { pid: entry, fields };
  }
}

function snapshot(): Snapshot | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal ...
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const busy = cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!;
    // utime stime cutime cstime: this process (all threads) and its children that have exited...
    const self = statFields(readFileSync('/proc/self/stat', 'utf8'));
    let own = ticks(self) + Number(self[13]) + Number(self[14]);
    // ...plus the children still running (function bundles, runners), which cutime counts only once reaped.
    for (const { fields } of runningChildren()) own += ticks(fields);
    return { at: Date.now(), machineBusy: busy, own, ...stealOf(cpu) };
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU time and the part of it stolen, from /proc/stat's "cpu" line (user nice system idle iowait irq
 * softirq steal, in ticks; guest time is already inside user and nice).
 */
export function stealOf(cpuLine: readonly number[]): { machineTotal: number; stolen: number } {
  return { machineTotal: cpuLine.slice(0, 8).reduce((a, b) => a + b, 0), stolen: cpuLine[7] ?? 0 };
}

export interface CpuWindow {
  /** Cores' worth of CPU used by other processes (not us, not our exited children). */
  foreignCores?: number;
  /** Cores' worth of CPU used by us and our children. */
  ownCores?: number;
  /**
   * The share of this VM's CPU time its host ran other guests instead (steal): our cores were not ours for that
   * long, in stretches we cannot see from inside, which lands on latencies as waits nothing here explains.
   */
  stolenShare?: number;
}

/** Starts a window; call the result to close it. Children must have exited by then to be counted as ours. */
export function cpuWindow(): () => CpuWindow {
  const start = snapshot();
  return () => {
    const end = snapshot();
    if (!start || !end || end.at - start.at < 20) return {};
    const seconds = (end.at - start.at) / 1000;
    const own = (end.own - start.own) / TICKS_PER_SECOND / seconds;
    const busy = (end.machineBusy - start.machineBusy) / TICKS_PER_SECOND / seconds;
    const total = end.machineTotal - start.machineTotal;
    // The share of all of the machine's time, so 10 % on two cores is a fifth of a core.
    return {
      foreignCores: Math.max(0, busy - own),
      ownCores: own,
      stolenShare: total > 0 ? (end.stolen - start.stolen) / total : undefined,
    };
  };
}

/**
 * CPU ms used so far by this process ('stack') and by each running child, named by what it runs: a function
 * bundle by its folder (dist/functions/<name>/index.js), any other child by its script's name. Linux only; empty
 * elsewhere. Two readings subtracted give where a window's CPU went.
 */
export function cpuByProcess(): Map<string, number> {
  const byName = new Map<string, number>();
  const add = (name: string, fields: string[]) =>
    byName.set(name, (byName.get(name) ?? 0) + (ticks(fields) * 1000) / TICKS_PER_SECOND);
  try {
    add('stack', statFields(readFileSync('/proc/self/stat', 'utf8')));
    for (const { pid, fields } of runningChildren()) {
      let args: string[];
      try {
        args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      } catch {
        continue; // It exited meanwhile.
      }
      const script = args[args.length - 1] ?? '';
      const bundle = /functions[\\/]([^\\/]+)[\\/]index\.js$/.exec(script);
      add(bundle ? bundle[1]! : script.split(/[\\/]/).pop()!, fields);
    }
  } catch {
    byName.clear();
  }
  return byName;
}

/** CPU ms by process (as cpuByProcess names them) since the reading `before`, per unit of work (a join, a leave). */
export function cpuPerUnit(before: Map<string, number>, units: number): Record<string, number> {
  const per: Record<string, number> = {};
  for (const [name, ms] of cpuByProcess()) per[name] = (ms - (before.get(name) ?? 0)) / Math.max(1, units);
  return per;
}

/** Cores' worth of CPU: `perUnit` ms (summed over processes) for each of `units`, over `seconds`; NaN without figures. */
export function coresBusy(perUnit: Record<string, number>, units: number, seconds: number): number {
  const values = Object.values(perUnit);
  if (values.length === 0 || seconds <= 0) return NaN;
  return (values.reduce((a, b) => a + b, 0) * units) / (seconds * 1000);
}
