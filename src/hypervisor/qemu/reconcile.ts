import { logger } from '@libp2p/logger'
import type { AbortOptions } from '../index.js'
import { LiveVm } from './live-vm.js'
import { removeVmFolder } from './remove-vm.js'
import { scanFolders, scanProcesses, vmPaths, type VmIdentity } from './vm-store.js'

const log = logger('vmplant:plant:qemu')

/**
 * Makes the in-memory view match the work folder: adopts every complete clone (running, or
 * dead: it shows as crashed until destroyed), and removes debris: folders without an identity
 * (a clone that a killed plant left half made, pool processes of a previous line) and QEMU
 * processes of this folder whose clone folder is gone. `inUse`: tokens that are no debris though
 * incomplete (a clone being made, a warm pool's process).
 */
export async function reconcileVms (workDir: string, vms: Map<string, LiveVm>, inUse: (token: string) => boolean, options: AbortOptions = {}): Promise<void> {
  const folders = await scanFolders(workDir, options)
  const processes = await scanProcesses(workDir, options)
  const complete = new Map(folders.filter((f) => f.identity !== undefined).map((f) => [f.token, f.identity as VmIdentity]))
  for (const [vmid, vm] of vms) {
    if (!complete.has(vm.token)) { vm.detach(); vms.delete(vmid) }
  }
  for (const [token, identity] of complete) {
    if (vms.get(identity.vmid)?.token !== token) vms.set(identity.vmid, new LiveVm(token, identity, vmPaths(workDir, token)))
  }
  const debris = new Set([...folders.map((f) => f.token), ...processes.keys()].filter((t) => !complete.has(t)))
  for (const token of debris) {
    if (inUse(token)) continue
    log('removing debris %s (%s)', token, folders.some((f) => f.token === token) ? 'a clone never completed' : 'a process without its folder')
    await removeVmFolder(workDir, token, undefined, processes.get(token) ?? [])
  }
}
