import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions } from '../index.js'
import { ProductionError } from '../errors.js'
import { isAlive } from './process.js'

/**
 * What the line keeps on disk about one QEMU process, in `<workDir>/vms/<token>/vm.json`.
 * The folder is named by a random token, not the vmid, so that a pooled process can be handed
 * to any vmid and socket paths stay short.
 */
export interface VmRecord {
  version: 1
  token: string
  /** null while the process waits in the warm pool */
  vmid: string | null
  goldenId: string
  goldenDir: string
  /** 'creating' until the clone is complete; a creating record without its creator is debris */
  phase: 'creating' | 'ready'
  pid?: number
  mac: string
  /** the NIC with `mac` is in (added at resume, or by the warm pool) */
  nic?: boolean
  createdAt: number
}

export interface VmPaths {
  dir: string
  record: string
  overlay: string
  qmp: string
  agent: string
  console: string
  pidFile: string
  log: string
}

export function vmPaths (workDir: string, token: string): VmPaths {
  const dir = join(workDir, 'vms', token)
  return {
    dir,
    record: join(dir, 'vm.json'),
    overlay: join(dir, 'disk.qcow2'),
    qmp: join(dir, 'qmp.sock'),
    agent: join(dir, 'agent.sock'),
    console: join(dir, 'console.log'),
    pidFile: join(dir, 'qemu.pid'),
    log: join(dir, 'qemu.log')
  }
}

/** Writes the record atomically (temp file, then rename), so a crash never leaves half a record. */
export async function writeRecord (workDir: string, record: VmRecord, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const paths = vmPaths(workDir, record.token)
  await writeFile(paths.record + '.tmp', JSON.stringify(record) + '\n')
  await rename(paths.record + '.tmp', paths.record)
}

/** Every VM folder under the work folder, with its record (undefined when missing or unreadable). */
export async function scanRecords (workDir: string, options: AbortOptions = {}): Promise<Array<{ token: string, record: VmRecord | undefined }>> {
  options.signal?.throwIfAborted()
  const root = join(workDir, 'vms')
  if (!existsSync(root)) return []
  const out: Array<{ token: string, record: VmRecord | undefined }> = []
  for (const token of await readdir(root)) {
    let record: VmRecord | undefined
    try {
      record = JSON.parse(await readFile(join(root, token, 'vm.json'), 'utf8')) as VmRecord
    } catch {
      record = undefined
    }
    out.push({ token, record })
  }
  return out
}

/** The pid QEMU wrote with -pidfile, for a record written before the pid was known. */
export function readPidFile (paths: VmPaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const heldInThisProcess = new Set<string>()

/**
 * One line per work folder: a second line (in this process or another live one) would kill the
 * first one's half-made clones as debris. A lock left by a dead process is taken over.
 */
export async function acquireWorkDirLock (workDir: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  await mkdir(join(workDir, 'vms'), { recursive: true })
  const path = join(workDir, 'line.lock')
  if (heldInThisProcess.has(workDir)) throw new ProductionError(`work folder ${workDir} is used by another started line in this process`)
  if (existsSync(path)) {
    const pid = Number(readFileSync(path, 'utf8').trim())
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) throw new ProductionError(`work folder ${workDir} is used by the running process ${pid}`)
  }
  writeFileSync(path, `${process.pid}\n`)
  heldInThisProcess.add(workDir)
}

export function releaseWorkDirLock (workDir: string): void {
  if (!heldInThisProcess.delete(workDir)) return
  rmSync(join(workDir, 'line.lock'), { force: true })
}
