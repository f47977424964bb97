import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type TestFn } from 'ava'

/** True when QEMU and qemu-img are on the PATH. */
export function haveQemu (): boolean {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' })
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * `test.serial` when QEMU is here or CI is set (so that a CI without QEMU fails), else a skip
 * that says why.
 */
export function qemuTest (): TestFn['serial'] {
  if (haveQemu() || process.env.CI !== undefined) return test.serial
  console.warn('qemu-system-x86_64 not found: skipping the QEMU line tests (they fail instead when CI is set)')
  return test.serial.skip as unknown as TestFn['serial']
}

export interface TempDirs { work: string, golden: string, remove: () => void }

/** A work folder on disk and a golden folder on tmpfs, both short enough for unix sockets. */
export function tempDirs (prefix: string): TempDirs {
  const work = mkdtempSync(join(tmpdir(), `${prefix}-`))
  const golden = mkdtempSync(join('/dev/shm', `${prefix}-`))
  return {
    work,
    golden,
    remove: () => {
      rmSync(work, { recursive: true, force: true })
      rmSync(golden, { recursive: true, force: true })
    }
  }
}

/** Pids of live processes whose command line mentions `needle` (QEMU names are cut to 15 characters, so -f). */
export function pidsMentioning (needle: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry))
    } catch {}
  }
  return out
}

export function processGone (pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z'
  } catch {
    return true
  }
}

/** SIGKILLs each pid that is still alive. */
export function killAll (pids: Iterable<number>): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}
