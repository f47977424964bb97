import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type TestFn } from 'ava'
import { lineMissing, type LineKind } from '../helpers/hypervisors.js'

/**
 * `test.serial` when the line can run here or CI is set (so that a CI without it fails), else a
 * skip that says why.
 */
export function lineTest (kind: LineKind): TestFn['serial'] {
  const missing = lineMissing(kind)
  if (missing === undefined || process.env.CI !== undefined) return test.serial
  console.warn(`${missing}: skipping the ${kind} line tests (they fail instead when CI is set)`)
  return test.serial.skip as unknown as TestFn['serial']
}

export function qemuTest (): TestFn['serial'] {
  return lineTest('qemu')
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

/** for the e2e specs, which import it from here */
export { pidsMentioning } from '../helpers/hypervisors.js'
