/**
 * The host CPU that this process's QEMU children spend, from /proc: their utime + stime over an
 * interval, and a way to end any that are left when the bench stops.
 */
import { readdir, readFile } from 'node:fs/promises'
import { readdirSync, readFileSync } from 'node:fs'
import { parseStat, type ProcStat } from '../src/hypervisor/proc.js'

/** clock ticks per second of /proc/<pid>/stat's times (USER_HZ; 100 on every Linux this runs on) */
const USER_HZ = 100

interface Stat extends ProcStat { pid: number }

function statOf (pid: number, text: string): Stat {
  return { pid, ...parseStat(text) }
}

function isQemuChild (stat: Stat | undefined, parent: number): stat is Stat {
  return stat !== undefined && stat.ppid === parent && stat.comm.startsWith('qemu-system')
}

/** The QEMU processes whose parent is `parent` (this process by default), with their CPU ticks so far. */
export async function qemuChildren (parent = process.pid): Promise<Stat[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number)
  const stats = await Promise.all(pids.map(async (pid) => {
    try {
      return statOf(pid, await readFile(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return undefined
    }
  }))
  return stats.filter((s) => isQemuChild(s, parent))
}

/** Per-process CPU seconds spent between two samples, for the processes alive in both. */
export function cpuSeconds (before: Stat[], after: Stat[]): number[] {
  const start = new Map(before.map((s) => [s.pid, s.ticks]))
  return after.filter((s) => start.has(s.pid)).map((s) => (s.ticks - (start.get(s.pid) as number)) / USER_HZ)
}

/** Host-wide busy and total jiffies from /proc/stat, to report the host's utilisation over an interval. */
export async function hostCpu (): Promise<{ busy: number, total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] as string
  const v = line.split(/\s+/).slice(1).map(Number)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  const total = v.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/**
 * Kills (SIGKILL) every QEMU child of this process still alive, synchronously, so that it also
 * works from an 'exit' handler. Returns the pids it killed.
 */
export function killQemuChildren (parent = process.pid): number[] {
  const killed: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat: Stat | undefined
    try {
      stat = statOf(Number(name), readFileSync(`/proc/${name}/stat`, 'utf8'))
    } catch {
      continue
    }
    if (!isQemuChild(stat, parent)) continue
    try {
      process.kill(stat.pid, 'SIGKILL')
      killed.push(stat.pid)
    } catch {}
  }
  return killed
}
