import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
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

export { pidsMentioning, processGone, killAll } from '../helpers/hypervisors.js'
