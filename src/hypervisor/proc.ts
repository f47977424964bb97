import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'

/**
 * The fields of `/proc/<pid>/stat` the lines and benches use; `comm` may hold spaces and
 * parentheses, so it is cut at the last `)`. `ticks`: user + system CPU time, in clock ticks.
 */
export interface ProcStat { comm: string, state: string, ppid: number, pgrp: number, ticks: number }

export function parseStat (stat: string): ProcStat {
  const end = stat.lastIndexOf(')')
  // after the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
  const fields = stat.slice(end + 2).split(' ')
  return { comm: stat.slice(stat.indexOf('(') + 1, end), state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) }
}

/**
 * True when `pid` runs (not a zombie) and, when `token` is given, its command line contains it,
 * so that a recycled pid is not mistaken for our VM. Another user's process counts too.
 */
export function isAlive (pid: number, token?: string): boolean {
  try {
    const { state } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    if (state === 'Z' || state === 'X') return false
    if (token === undefined) return true
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token)
  } catch {
    return false
  }
}

/** The pid in a pid file (QEMU's -pidfile, a lock, a build's owner), or undefined when it is missing or holds none. */
export function readPidFile (path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Every live process but this one, with its command line: one pass over /proc that the lines'
 * scans filter. Zombies and kernel threads have an empty command line and are left out.
 */
export async function commandLines (): Promise<Array<{ pid: number, argv: string[] }>> {
  const out: Array<{ pid: number, argv: string[] }> = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline !== '') out.push({ pid: Number(entry), argv: cmdline.split('\0') })
    } catch {
      // the process ended while we looked
    }
  }
  return out
}
