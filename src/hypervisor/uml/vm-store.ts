import { createHash } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { readJsonFile, writeFileDurably } from '../../fs/index.js'
import type { AbortOptions } from '../index.js'

/**
 * What a clone's folder says about the clone: which VM it is and what it boots from, nothing about
 * its state (the plant's store holds that; /proc tells whether it runs). In
 * `<workDir>/vms/<token>/vm.json`, written once, last, when the COW file is made: a folder without
 * it is a clone that was never completed, and a starting line removes it.
 * The token is a hash of the work folder and the vmid: vmids are long (they carry a peer id)
 * while a umid must stay under 64 characters and the management socket path under 108, and two
 * lines on one host never share a umid.
 */
export interface UmlVmIdentity {
  version: 2
  vmid: string
  /** linux.uml's `umid=`, `vmplant-<token>`; every process of the VM carries it */
  umid: string
  goldenId: string
  /** the golden root file system the COW file is over */
  base: string
  memoryMB: number
  createdAt: number
  /** the NIC: a tap on a domain's bridge; absent: the VM has no NIC */
  nic?: { bridge: string, tap: string }
}

/**
 * What the line needs to talk to a booted VM again: in `boot.json`, written when linux.uml is
 * spawned and again when its agent answers, removed when a boot fails. A VM with this file and no
 * process has crashed; one without it was never booted.
 */
export interface UmlBoot {
  /** the first linux.uml process, also its process group (it is spawned in a session of its own) */
  pid: number
  /** the host end of the guest's /dev/ttyS0, where the agent listens; absent while booting */
  pts?: string
  startedAt: number
}

export interface UmlVmPaths {
  dir: string
  identity: string
  boot: string
  cow: string
  console: string
  /** linux.uml's `uml_dir=`, shared by the line's VMs: it makes `<umid>/{pid,mconsole}` inside */
  umlDir: string
  mconsole: string
}

export const TOKEN = /^[0-9a-f]{16}$/

export function vmToken (workDir: string, vmid: string): string {
  return createHash('sha256').update(`${workDir}\0${vmid}`).digest('hex').slice(0, 16)
}

export function umidOf (token: string): string {
  return `vmplant-${token}`
}

export function umlDirOf (workDir: string): string {
  return join(workDir, 'run')
}

export function vmPaths (workDir: string, token: string): UmlVmPaths {
  const dir = join(workDir, 'vms', token)
  const umlDir = umlDirOf(workDir)
  return {
    dir,
    identity: join(dir, 'vm.json'),
    boot: join(dir, 'boot.json'),
    cow: join(dir, 'disk.cow'),
    console: join(dir, 'console.log'),
    umlDir,
    mconsole: join(umlDir, umidOf(token), 'mconsole')
  }
}

/** Writes a JSON file durably (temp file, fsync, rename), so neither a crash nor a power cut leaves half of it. */
async function writeJson (path: string, value: unknown, options: AbortOptions = {}): Promise<void> {
  await writeFileDurably(path, JSON.stringify(value) + '\n', options)
}

/** A file that does not parse counts as absent: the folder is then a stray, as one without the file. */
async function readJson<T> (path: string, options: AbortOptions = {}): Promise<T | undefined> {
  return await readJsonFile(path, { corrupt: 'absent', ...options }) as T | undefined
}

/** Into the clone's folder, which the clone made with its COW file. */
export async function writeIdentity (workDir: string, token: string, identity: UmlVmIdentity, options: AbortOptions = {}): Promise<void> {
  await writeJson(vmPaths(workDir, token).identity, identity, options)
}

export async function readIdentity (workDir: string, token: string, options: AbortOptions = {}): Promise<UmlVmIdentity | undefined> {
  const identity = await readJson<UmlVmIdentity>(vmPaths(workDir, token).identity, options)
  return identity?.version === 2 && vmToken(workDir, identity.vmid) === token ? identity : undefined
}

export async function writeBoot (workDir: string, token: string, boot: UmlBoot, options: AbortOptions = {}): Promise<void> {
  await writeJson(vmPaths(workDir, token).boot, boot, options)
}

export async function readBoot (workDir: string, token: string, options: AbortOptions = {}): Promise<UmlBoot | undefined> {
  const boot = await readJson<UmlBoot>(vmPaths(workDir, token).boot, options)
  return typeof boot?.pid === 'number' ? boot : undefined
}

export async function removeBoot (workDir: string, token: string): Promise<void> {
  await rm(vmPaths(workDir, token).boot, { force: true })
}

/** Every clone folder in the work folder: complete ones with their identity, and `strays` (tokens of folders without one). */
export async function listFolders (workDir: string, options: AbortOptions = {}): Promise<{ vms: Array<{ token: string, identity: UmlVmIdentity }>, strays: string[] }> {
  options.signal?.throwIfAborted()
  let tokens: string[] = []
  try {
    tokens = await readdir(join(workDir, 'vms'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const vms: Array<{ token: string, identity: UmlVmIdentity }> = []
  const strays: string[] = []
  for (const token of tokens.filter((t) => TOKEN.test(t))) {
    const identity = await readIdentity(workDir, token, options)
    if (identity === undefined) strays.push(token)
    else vms.push({ token, identity })
  }
  return { vms, strays }
}
