import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { getPriority, setPriority } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions } from '../index.js'
import { isAlive, parseStat } from '../proc.js'
import { QemuStartError } from './errors.js'

/**
 * Starts QEMU in its own session so that it outlives the plant (a restarted plant re-attaches).
 * Returns its pid; stderr goes to `logPath`. No signal is passed: aborting a request must not
 * kill a VM that has already been handed out, so callers clean up on abort themselves.
 */
export async function spawnDetached (binary: string, args: string[], logPath: string, options: AbortOptions = {}): Promise<number> {
  options.signal?.throwIfAborted()
  const fd = openSync(logPath, 'a')
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'ignore', fd] })
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err) => { reject(new QemuStartError(`cannot run ${binary}: ${err.message}`, '', { cause: err })) })
      child.once('spawn', () => {
        child.unref()
        if (child.pid === undefined) reject(new QemuStartError(`${binary} started without a pid`))
        else resolve(child.pid)
      })
    })
  } finally {
    closeSync(fd)
  }
}

/** Gone, or a zombie that some other process must reap; our own zombies are reaped by Node soon. */
function isGone (pid: number): boolean {
  try {
    const { state, ppid } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    if (state !== 'Z' && state !== 'X') return false
    return ppid !== process.pid
  } catch {
    return true
  }
}

/** Waits until the process is gone (and reaped, when it is our child); false when it still runs at the deadline. */
export async function waitExit (pid: number, options: AbortOptions & { timeoutMs?: number } = {}): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    options.signal?.throwIfAborted()
    if (isGone(pid)) return true
    if (Date.now() >= deadline) return false
    await sleep(5, undefined, { signal: options.signal })
  }
}

/** SIGKILLs our VM's process (checked by token) and waits for it to be gone. */
export async function killAndWait (pid: number, token: string, options: AbortOptions = {}): Promise<void> {
  if (!isAlive(pid, token)) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
  // a kill is not abortable half-way: a VM reported destroyed must be gone
  if (!await waitExit(pid, { timeoutMs: 10_000 })) throw new QemuStartError(`process ${pid} survived SIGKILL for 10 s`)
  options.signal?.throwIfAborted()
}

/** Resident memory of the process in KiB, or undefined when it is gone. */
export function readRssKB (pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m?.[1] === undefined ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

/** MB of host memory available (MemAvailable), or undefined where /proc/meminfo cannot be read */
export function availableMB (): number | undefined {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    return m?.[1] === undefined ? undefined : Number(m[1]) / 1024
  } catch {
    return undefined
  }
}

/** The last bytes of a log file, for error messages. */
export function tailFile (path: string, bytes = 2000): string {
  try {
    const text = readFileSync(path, 'utf8')
    return text.slice(-bytes)
  } catch {
    return ''
  }
}

/**
 * What the process costs the host in KiB: its proportional set size (`Pss` of
 * /proc/PID/smaps_rollup, which splits the golden's shared pages among their users), or its RSS
 * where smaps_rollup cannot be read; undefined when it is gone.
 */
export async function readPssKB (pid: number): Promise<number | undefined> {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))
    if (m?.[1] !== undefined) return Number(m[1])
  } catch {
    // an older kernel, or no right to read it: RSS
  }
  return readRssKB(pid)
}

/**
 * Whether this process may lower a niceness again (CAP_SYS_NICE, or RLIMIT_NICE allows it): tried
 * on our own main thread, one step down and back, which leaves it as it was.
 */
export function canRestorePriority (): boolean {
  try {
    const current = getPriority(process.pid)
    if (current <= -20) return false
    setPriority(process.pid, current - 1)
    setPriority(process.pid, current)
    return true
  } catch {
    return false
  }
}

/** Sets every thread of the process to `niceness` (Linux sets priorities per thread); false when one could not be set. */
export async function setProcessPriority (pid: number, niceness: number): Promise<boolean> {
  let ok = true
  let tids: string[]
  try {
    tids = await readdir(`/proc/${pid}/task`)
  } catch {
    return false
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), niceness)
    } catch (err) {
      // a thread that ended meanwhile is no failure
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') ok = false
    }
  }
  return ok
}
