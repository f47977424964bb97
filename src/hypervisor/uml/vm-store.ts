import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions } from '../index.js'

/**
 * What the line keeps on disk about one VM, in `<workDir>/vms/<token>/vm.json`, so that a
 * restarted plant finds its VMs. The token is a hash of the work folder and the vmid: vmids
 * are long (they carry a peer id) while a umid must stay under 64 characters and the
 * management socket path under 108, and two lines on one host never share a umid.
 */
export interface UmlVmRecord {
  version: 1
  vmid: string
  token: string
  /** linux.uml's `umid=`, `vmplant-<token>`; every process of the VM carries it */
  umid: string
  goldenId: string
  /** the golden root file system the COW file is over */
  base: string
  memoryMB: number
  /** creating: the COW file is being made; cloned: made, never booted or stopped; booting/running: linux.uml started */
  phase: 'creating' | 'cloned' | 'booting' | 'running'
  /** the first linux.uml process, also its process group (it is spawned in a session of its own) */
  pid?: number
  /** the host end of the guest's /dev/ttyS0, where the agent listens */
  pts?: string
  createdAt: number
  startedAt?: number
}

export interface UmlVmPaths {
  dir: string
  record: string
  cow: string
  console: string
  /** linux.uml's `uml_dir=`, shared by the line's VMs: it makes `<umid>/{pid,mconsole}` inside */
  umlDir: string
  mconsole: string
}

export function vmToken (workDir: string, vmid: string): string {
  return createHash('sha256').update(`${workDir}\0${vmid}`).digest('hex').slice(0, 16)
}

export function umidOf (token: string): string {
  return `vmplant-${token}`
}

export function vmPaths (workDir: string, token: string): UmlVmPaths {
  const dir = join(workDir, 'vms', token)
  const umlDir = join(workDir, 'run')
  return {
    dir,
    record: join(dir, 'vm.json'),
    cow: join(dir, 'disk.cow'),
    console: join(dir, 'console.log'),
    umlDir,
    mconsole: join(umlDir, umidOf(token), 'mconsole')
  }
}

/** Writes the record atomically (temp file, then rename), so a crash never leaves half a record. */
export async function writeRecord (workDir: string, record: UmlVmRecord, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const paths = vmPaths(workDir, record.token)
  await mkdir(paths.dir, { recursive: true })
  await writeFile(paths.record + '.tmp', JSON.stringify(record) + '\n')
  await rename(paths.record + '.tmp', paths.record)
}

export async function readRecord (workDir: string, token: string, options: AbortOptions = {}): Promise<UmlVmRecord | undefined> {
  options.signal?.throwIfAborted()
  try {
    const record = JSON.parse(await readFile(vmPaths(workDir, token).record, 'utf8')) as UmlVmRecord
    return record.version === 1 && record.token === token ? record : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined
    throw err
  }
}

/** Every record in the work folder; folders without a readable record are left to the caller. */
export async function listRecords (workDir: string, options: AbortOptions = {}): Promise<{ records: UmlVmRecord[], strays: string[] }> {
  options.signal?.throwIfAborted()
  let tokens: string[] = []
  try {
    tokens = await readdir(join(workDir, 'vms'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const records: UmlVmRecord[] = []
  const strays: string[] = []
  for (const token of tokens.filter((t) => /^[0-9a-f]{16}$/.test(t))) {
    const record = await readRecord(workDir, token, options)
    if (record === undefined) strays.push(token)
    else records.push(record)
  }
  return { records, strays }
}
