import { createHash } from 'node:crypto'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostParams, NetworkAttachment, VmState } from '../index.js'
import { CorruptFileError, readJsonFile, writeFileDurably } from '../../fs/index.js'
import { isAlive } from '../proc.js'

/** One simulated VM: what a hypervisor would hold of it. */
export interface SimVm {
  version: 1
  vmid: string
  goldenId: string
  state: VmState
  /** what host actions plugged into it */
  attached: HostParams[]
  /** the domain network the plant gave the clone (the sim line makes no tap) */
  network?: NetworkAttachment
  /** the guest's files, as the script interpreter sees them */
  files: Record<string, string>
  createdAt: number
}

/** Where the sim line keeps its VMs: the simulated hypervisor. */
export interface SimVmStore {
  /** a copy, or undefined */
  get(vmid: string): Promise<SimVm | undefined>
  put(vm: SimVm): Promise<void>
  delete(vmid: string): Promise<void>
  list(): Promise<SimVm[]>
  /** removes what a process killed half-way through a write left */
  clean(): Promise<void>
}

/** VMs in this object's memory: they end with it. */
export function memoryStore (): SimVmStore {
  const vms = new Map<string, SimVm>()
  return {
    get: async (vmid) => {
      const vm = vms.get(vmid)
      return vm === undefined ? undefined : structuredClone(vm)
    },
    put: async (vm) => { vms.set(vm.vmid, structuredClone(vm)) },
    delete: async (vmid) => { vms.delete(vmid) },
    list: async () => [...vms.values()].map((vm) => structuredClone(vm)),
    clean: async () => {}
  }
}

/**
 * VMs as small files, `<dir>/vms/<hash of vmid>.json`, written durably: they outlive the line
 * object as VMs outlive the plant on the real lines, so a restarted plant finds them again.
 */
export function folderStore (dir: string): SimVmStore {
  const root = join(dir, 'vms')
  const path = (vmid: string): string => join(root, `${createHash('sha256').update(vmid).digest('hex').slice(0, 24)}.json`)
  const read = async (file: string): Promise<SimVm | undefined> => {
    try {
      const vm = await readJsonFile(file) as SimVm | undefined
      return vm?.version === 1 ? vm : undefined
    } catch (err: unknown) {
      if (err instanceof CorruptFileError) return undefined
      throw err
    }
  }
  const names = async (): Promise<string[]> => {
    try {
      return await readdir(root)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      return []
    }
  }
  return {
    get: async (vmid) => {
      const vm = await read(path(vmid))
      return vm?.vmid === vmid ? vm : undefined
    },
    put: async (vm) => {
      await mkdir(root, { recursive: true })
      // the temporary file has the writer's pid in its name: one of a process that died half-way is found by `clean`
      await writeFileDurably(path(vm.vmid), JSON.stringify(vm) + '\n')
    },
    delete: async (vmid) => { await rm(path(vmid), { force: true }) },
    list: async () => {
      const vms: SimVm[] = []
      for (const name of (await names()).filter((n) => n.endsWith('.json'))) {
        const vm = await read(join(root, name))
        if (vm !== undefined) vms.push(vm)
      }
      return vms
    },
    clean: async () => {
      for (const name of await names()) {
        const writer = Number(/\.json\.(\d+)-[0-9a-f]+\.tmp$/.exec(name)?.[1])
        if (Number.isInteger(writer) && writer > 0 && !isAlive(writer)) await rm(join(root, name), { force: true })
      }
    }
  }
}

