import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import {
  checkHardware, ProductionError, UnsupportedHardwareError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage,
  type GoldenRequest, type GuestAction, type HostParams, type CloneOptions, type LineCapabilities, type LineFingerprint, type ProductionLine, type VmHandle,
  type VmInfo, type VmState
} from '../index.js'
import type { GuestAgentClient } from '../guest/agent-client.js'
import { detachVmTap } from '../net/index.js'
import { handleString } from '../fingerprint.js'
import { acquireWorkDirLock, releaseWorkDirLock } from '../work-lock.js'
import { openPtsAgent, waitForAgent } from './agent.js'
import { umlCapabilities, umlFingerprint } from './capabilities.js'
import { bootClone, makeClone } from './clone.js'
import { prepareUmlGolden, removeAbandonedBuilds } from './golden.js'
import type { UmlLineInit } from './init.js'
import { killVm, pssKB, scanUml, stopVm } from './process.js'
import {
  listFolders, readBoot, readIdentity, TOKEN, umidOf, umlDirOf, vmPaths, vmToken, type UmlBoot, type UmlVmIdentity
} from './vm-store.js'

const log = logger('vmplant:plant:uml')

/** How long a re-opened agent line may take to answer a ping. */
const REATTACH_TIMEOUT_MS = 5_000

/** A clone of this line: its folder's identity and, once booted, how to reach it. */
interface UmlVm { token: string, identity: UmlVmIdentity, boot: UmlBoot | undefined }

/**
 * The user-mode Linux line. All it knows of a VM is in the VM's folder (identity, boot file) and
 * in /proc, so a new line object over the same work folder (a restarted plant) finds the running
 * VMs and talks to them.
 */
export class UmlLine implements ProductionLine {
  readonly kind = 'uml' as const
  /** open agent channels, by vmid; opened again on demand after a restart */
  private readonly agents = new Map<string, GuestAgentClient>()
  /** vmids with a clone, resume or destroy in progress in this process */
  private readonly busy = new Set<string>()
  private started = false

  constructor (readonly init: UmlLineInit) {}

  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.started) return
    await mkdir(join(this.init.workDir, 'vms'), { recursive: true })
    await mkdir(umlDirOf(this.init.workDir), { recursive: true })
    await mkdir(this.init.goldenDir, { recursive: true })
    await acquireWorkDirLock(this.init.workDir, options)
    this.started = true
    await this.removeDebris(options)
    await removeAbandonedBuilds(this.init.goldenDir, options)
  }

  async stop (options: AbortOptions & { destroyAll?: boolean } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    for (const agent of this.agents.values()) agent.close()
    this.agents.clear()
    if (options.destroyAll === true) {
      const { vms } = await listFolders(this.init.workDir, options)
      for (const { identity } of vms) await this.destroy(identity.vmid, options)
    }
    releaseWorkDirLock(this.init.workDir)
    this.started = false
  }

  capabilities (): LineCapabilities {
    return umlCapabilities()
  }

  async fingerprint (options: AbortOptions = {}): Promise<LineFingerprint> {
    return await umlFingerprint(this.init, options)
  }

  reservedMB (): number {
    return 0
  }

  memoryCostMB (memoryMB: number): number {
    return memoryMB + this.init.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
    checkHardware(this.capabilities(), this.kind, request.hardware)
    return await prepareUmlGolden(this.init, request, options)
  }

  /** a UML clone is a COW file and boots in about 0.4 s: there is nothing to keep warm */
  async warm (_goldens: GoldenImage[], options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
  }

  /** A clone is a COW file over the golden root file system (and a tap on its domain's bridge); nothing runs yet. */
  async clone (golden: GoldenImage, vmid: string, options: CloneOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    const disk = golden.artifacts.disk
    if (golden.line !== this.kind || disk === undefined) throw new ProductionError(`golden ${golden.id} was not made by the uml line`)
    const token = vmToken(this.init.workDir, vmid)
    return await this.exclusive(vmid, async () => {
      if (await readIdentity(this.init.workDir, token, options) !== undefined) throw new ProductionError(`VM ${vmid} already exists`)
      await makeClone(this.init.workDir, token, {
        version: 2, vmid, umid: umidOf(token), goldenId: golden.id, base: join(golden.dir, disk), memoryMB: golden.hardware.memoryMB, createdAt: Date.now()
      }, options)
      log('cloned %s from golden %s', vmid, golden.id)
      return { vmid, state: 'stopped', goldenId: golden.id, handle: handleOf(token, undefined) }
    })
  }

  /** Boots the clone; a VM that runs already is left as it is, one that died is booted again. */
  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    return await this.exclusive(vmid, async () => {
      const vm = await this.vm(vmid, options)
      const pids = await this.pidsOf(vm, options)
      if (pids.length > 0) return await this.info(vm, pids, options)
      const boot = await bootClone(this.init, vm.token, vm.identity, (agent) => {
        this.agents.get(vmid)?.close()
        this.agents.set(vmid, agent)
      }, options)
      return { vmid, state: 'running', goldenId: vm.identity.goldenId, pid: boot.pid, handle: handleOf(vm.token, boot) }
    })
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    options.signal?.throwIfAborted()
    const vm = await this.vm(vmid, options)
    const state = stateOf(vm, await this.pidsOf(vm, options))
    if (state !== 'running') throw new ProductionError(`VM ${vmid} is ${state}, not running`)
    const agent = await this.agent(vm, options)
    return await agent.run(action, options)
  }

  async hostAction (vmid: string, params: HostParams, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    throw new UnsupportedHardwareError(`the uml line cannot do the host action "${params.attach}" (VM ${vmid})`)
  }

  /**
   * The handle's token must be this line's for the vmid. A VM that was booted and whose processes
   * died while the plant was away is gone (VmNotFoundError), while `list` and `inspect` show it
   * `crashed` until `destroy` removes its folder; a clone never booted comes back `stopped`.
   */
  async recover (vmid: string, handle: VmHandle, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    const token = handleString(handle, 'token')
    if (token === undefined || !TOKEN.test(token) || token !== vmToken(this.init.workDir, vmid)) {
      throw new VmNotFoundError(vmid, { cause: new Error(`the handle ${JSON.stringify(handle)} is not this uml line's`) })
    }
    const info = await this.inspect(vmid, options)
    if (info.state === 'crashed') throw new VmNotFoundError(vmid, { cause: new Error('its processes are gone; its folder stays until destroy') })
    return info
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const vm = await this.vm(vmid, options)
    return await this.info(vm, await this.pidsOf(vm, options), options)
  }

  /** Kills every process of the VM (checking that none is left) and removes its folder. */
  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.exclusive(vmid, async () => {
      this.agents.get(vmid)?.close()
      this.agents.delete(vmid)
      const token = vmToken(this.init.workDir, vmid)
      await this.remove(token, (await readBoot(this.init.workDir, token, options))?.pid, options)
      log('destroyed %s', vmid)
    })
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    options.signal?.throwIfAborted()
    const { vms } = await listFolders(this.init.workDir, options)
    const processes = await this.processes(options)
    const infos: VmInfo[] = []
    for (const { token, identity } of vms) {
      const vm = { token, identity, boot: await readBoot(this.init.workDir, token, options) }
      infos.push(await this.info(vm, processes.get(identity.umid) ?? [], options))
    }
    return infos
  }

  /** The umid the VM's processes carry on their command lines (`pgrep -f <umid>`). */
  umid (vmid: string): string {
    return umidOf(vmToken(this.init.workDir, vmid))
  }

  async ping (vmid: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    const vm = await this.vm(vmid, options)
    await (await this.agent(vm, options)).ping(options)
  }

  /**
   * What a killed plant can leave: clone folders without an identity (a clone never completed),
   * and linux.uml processes of this line's `uml_dir` whose clone is not complete (a boot of a
   * folder since removed, a golden build). Nothing of this line runs yet when it is called.
   */
  private async removeDebris (options: AbortOptions): Promise<void> {
    const { vms, strays } = await listFolders(this.init.workDir, options)
    for (const token of strays) {
      log('removing debris %s (a clone never completed)', token)
      await this.remove(token, (await readBoot(this.init.workDir, token, options))?.pid, options)
    }
    const known = new Set(vms.map((vm) => vm.identity.umid))
    for (const umid of (await this.processes(options)).keys()) {
      if (known.has(umid)) continue
      log('removing debris %s (a UML process without its clone)', umid)
      await killVm(umid, undefined, options)
      await rm(join(umlDirOf(this.init.workDir), umid), { recursive: true, force: true })
    }
  }

  private async agent (vm: UmlVm, options: AbortOptions = {}): Promise<GuestAgentClient> {
    const vmid = vm.identity.vmid
    const open = this.agents.get(vmid)
    if (open !== undefined && !open.isClosed) return open
    const pts = vm.boot?.pts
    if (pts === undefined) throw new ProductionError(`VM ${vmid} is still booting`)
    const agent = await openPtsAgent(pts, options)
    try {
      await waitForAgent(agent, Date.now() + REATTACH_TIMEOUT_MS, () => undefined, options)
    } catch (err) {
      agent.close()
      throw new ProductionError(`the agent of VM ${vmid} does not answer on ${pts}`, { cause: err })
    }
    this.agents.set(vmid, agent)
    return agent
  }

  private async info (vm: UmlVm, pids: number[], options: AbortOptions = {}): Promise<VmInfo> {
    const info: VmInfo = { vmid: vm.identity.vmid, state: stateOf(vm, pids), goldenId: vm.identity.goldenId, handle: handleOf(vm.token, vm.boot) }
    if (pids.length > 0 && vm.boot !== undefined) info.pid = vm.boot.pid
    const rssKB = pids.length > 0 ? await pssKB(pids, options) : undefined
    if (rssKB !== undefined) info.rssKB = rssKB
    return info
  }

  private async vm (vmid: string, options: AbortOptions = {}): Promise<UmlVm> {
    const token = vmToken(this.init.workDir, vmid)
    const identity = await readIdentity(this.init.workDir, token, options)
    if (identity === undefined) throw new VmNotFoundError(vmid)
    return { token, identity, boot: await readBoot(this.init.workDir, token, options) }
  }

  /** Live processes of this line's VMs (its `uml_dir`), by umid: one scan of /proc. */
  private async processes (options: AbortOptions = {}): Promise<Map<string, number[]>> {
    return await scanUml({ ...options, umlDir: umlDirOf(this.init.workDir) })
  }

  private async pidsOf (vm: UmlVm, options: AbortOptions = {}): Promise<number[]> {
    return (await this.processes(options)).get(vm.identity.umid) ?? []
  }

  /** Kills whatever runs under the token's umid and removes its folders. */
  private async remove (token: string, pgid: number | undefined, options: AbortOptions = {}): Promise<void> {
    const paths = vmPaths(this.init.workDir, token)
    await stopVm(this.init.mconsoleBinary, paths.mconsole, umidOf(token), pgid, options)
    await rm(join(paths.umlDir, umidOf(token)), { recursive: true, force: true })
    await detachVmTap(paths.dir)
    await rm(paths.dir, { recursive: true, force: true })
  }

  private async exclusive<T> (vmid: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(vmid)) throw new ProductionError(`VM ${vmid} is busy with another operation`)
    this.busy.add(vmid)
    try {
      return await fn()
    } finally {
      this.busy.delete(vmid)
    }
  }
}

/** running while a process carries the umid; a VM that was booted and has none left has crashed. */
function stateOf (vm: UmlVm, pids: number[]): VmState {
  if (pids.length > 0) return 'running'
  return vm.boot !== undefined ? 'crashed' : 'stopped'
}

function handleOf (token: string, boot: UmlBoot | undefined): VmHandle {
  return { line: 'uml', token, pid: boot?.pid ?? null }
}
