import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readJsonFile, writeFileDurably } from '../../fs/index.js'
import type { AbortOptions } from '../index.js'
import { commandLines } from '../proc.js'

/**
 * What a clone's folder says about the clone: which VM it is, nothing about its state (the plant's
 * store holds that, and QEMU itself knows whether it runs). Written once, last, when the clone is
 * complete: a folder without it is half made (a clone that failed, or whose plant was killed) or
 * a warm pool process, and a line removes it when it is not its own.
 * In `<workDir>/vms/<token>/vm.json`; the folder is named by a random token, not the vmid, so that
 * a pooled process can be handed to any vmid and socket paths stay short.
 */
export interface VmIdentity {
  version: 2
  vmid: string
  goldenId: string
  /** the NIC's MAC, given at clone time and set in the guest at resume; absent when the golden has no NIC */
  mac?: string
  /** the tap the line made for the clone on a domain's bridge (also in the folder's nic.json, which is written before the tap is made) */
  nic?: { bridge: string, tap: string }
  createdAt: number
}

export interface VmPaths {
  dir: string
  identity: string
  overlay: string
  qmp: string
  agent: string
  console: string
  pidFile: string
  log: string
}

export const TOKEN = /^[0-9a-f]{12}$/

export function vmPaths (workDir: string, token: string): VmPaths {
  const dir = join(workDir, 'vms', token)
  return {
    dir,
    identity: join(dir, 'vm.json'),
    overlay: join(dir, 'disk.qcow2'),
    qmp: join(dir, 'qmp.sock'),
    agent: join(dir, 'agent.sock'),
    console: join(dir, 'console.log'),
    pidFile: join(dir, 'qemu.pid'),
    log: join(dir, 'qemu.log')
  }
}

/** Writes the identity durably (temp file, fsync, rename): a folder has all of it or none, also after a power cut. */
export async function writeIdentity (workDir: string, token: string, identity: VmIdentity, options: AbortOptions = {}): Promise<void> {
  await writeFileDurably(vmPaths(workDir, token).identity, JSON.stringify(identity) + '\n', options)
}

export async function readIdentity (workDir: string, token: string, options: AbortOptions = {}): Promise<VmIdentity | undefined> {
  options.signal?.throwIfAborted()
  // a folder whose identity is damaged is as incomplete as one without it
  const identity = await readJsonFile(vmPaths(workDir, token).identity, { corrupt: 'absent', ...options }) as Partial<VmIdentity> | undefined
  return identity?.version === 2 && typeof identity.vmid === 'string' ? identity as VmIdentity : undefined
}

/** Every VM folder under the work folder, with its identity (undefined when the clone is not complete). */
export async function scanFolders (workDir: string, options: AbortOptions = {}): Promise<Array<{ token: string, identity: VmIdentity | undefined }>> {
  options.signal?.throwIfAborted()
  const root = join(workDir, 'vms')
  if (!existsSync(root)) return []
  const out: Array<{ token: string, identity: VmIdentity | undefined }> = []
  for (const token of await readdir(root)) {
    if (!TOKEN.test(token)) continue
    out.push({ token, identity: await readIdentity(workDir, token, options) })
  }
  return out
}

/** Live QEMU processes of vmplant (`-name vmplant-<token>`), with their token and command line. */
async function vmplantQemus (options: AbortOptions): Promise<Array<{ pid: number, token: string, argv: string[] }>> {
  options.signal?.throwIfAborted()
  const out: Array<{ pid: number, token: string, argv: string[] }> = []
  for (const { pid, argv } of await commandLines()) {
    const name = argv.indexOf('-name')
    const token = name >= 0 ? /^vmplant-([0-9a-f]{12})$/.exec(argv[name + 1] ?? '')?.[1] : undefined
    if (token !== undefined) out.push({ pid, token, argv })
  }
  return out
}

/**
 * Live QEMU processes of this work folder, by token: a clone's command line names its folder
 * (`<workDir>/vms/<token>/...`) and carries `-name vmplant-<token>`. This finds a process whose
 * folder is gone or was never completed, which a killed plant can leave.
 */
export async function scanProcesses (workDir: string, options: AbortOptions = {}): Promise<Map<string, number[]>> {
  const prefix = join(workDir, 'vms') + '/'
  const found = new Map<string, number[]>()
  for (const { pid, token, argv } of await vmplantQemus(options)) {
    if (!argv.some((arg) => arg.includes(prefix + token + '/'))) continue
    found.set(token, [...(found.get(token) ?? []), pid])
  }
  return found
}

/** Live QEMU processes of vmplant whose command line contains `text`. */
export async function scanMentioning (text: string, options: AbortOptions = {}): Promise<number[]> {
  return (await vmplantQemus(options)).filter(({ argv }) => argv.some((arg) => arg.includes(text))).map(({ pid }) => pid)
}
