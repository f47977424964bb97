import { logger } from '@libp2p/logger'
import type { BinaryActionResult } from '../guest/index.js'
import {
  ProductionError, UnsupportedHardwareError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage, type GoldenOptions, type GoldenRequest,
  type GuestAction, type HostParams, type LineCapabilities, type LineFingerprint, type ProductionLine, type VmHandle, type VmInfo
} from '../index.js'
import { handleString } from '../fingerprint.js'
import { acquireWorkDirLock, releaseWorkDirLock } from '../work-lock.js'
import { qemuCapabilities, qemuFingerprint } from './capabilities.js'
import { checkCloneRequest, makeClone, resumeClone, type QemuCloneOptions } from './clone-vm.js'
import { removeAbandonedBuilds } from './golden.js'
import { GoldenBuilds } from './golden-builds.js'
import { qemuGoldenImporter, removeAbandonedImports, type QemuGoldenImporter } from './golden-import.js'
import { checkGoldenDirOnTmpfs, type QemuLineInit } from './init.js'
import { LiveVm } from './live-vm.js'
import { reconcileVms } from './reconcile.js'
import { removeVmFolder } from './remove-vm.js'
import { readIdentity, TOKEN, vmPaths } from './vm-store.js'
import { WarmPool } from './warm-pool.js'

const log = logger('vmplant:plant:qemu')

export type { QemuCloneOptions } from './clone-vm.js'

/**
 * The QEMU production line: goldens checkpointed on tmpfs, clones resumed from them copy-on-write.
 * All it knows of a VM is in the VM's folder (identity, sockets, pid file) and in /proc, so a new
 * line object over the same work folder (a restarted plant) finds the VMs and talks to them.
 */
export class QemuLine implements ProductionLine {
  readonly kind = 'qemu'
  private readonly vms = new Map<string, LiveVm>()
  /** tokens of folders this line is filling right now; anything else half-made is debris */
  private readonly creating = new Set<string>()
  private readonly claimed = new Set<string>()
  /** pooled clones not yet resumed: their pool is topped up once they answered, not while they start */
  private readonly refillAfterResume = new Map<string, GoldenImage>()
  private readonly pool: WarmPool
  private started = false
  private readonly goldens: GoldenBuilds

  constructor (readonly init: QemuLineInit) {
    this.pool = new WarmPool(init)
    this.goldens = new GoldenBuilds(init)
  }

  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.started) return
    await checkGoldenDirOnTmpfs(this.init.goldenDir, options)
    await acquireWorkDirLock(this.init.workDir, options)
    this.started = true
    this.pool.start()
    await this.reconcile(options)
    await removeAbandonedBuilds(this.init.goldenDir, options)
    await removeAbandonedImports(this.init.goldenDir, options)
  }

  async stop (options: AbortOptions & { destroyAll?: boolean } = {}): Promise<void> {
    if (!this.started) return
    await this.goldens.abortAll()
    await this.pool.stop(options)
    if (options.destroyAll === true) {
      await this.reconcile()
      for (const vmid of [...this.vms.keys()]) await this.destroy(vmid)
    }
    for (const vm of this.vms.values()) vm.detach()
    this.vms.clear()
    releaseWorkDirLock(this.init.workDir)
    this.started = false
  }

  capabilities (): LineCapabilities {
    return qemuCapabilities(this.init)
  }

  /** fetched goldens go straight onto the tmpfs golden folder (`capabilities().goldenImport`) */
  goldenImporter (): QemuGoldenImporter {
    return qemuGoldenImporter(this.init)
  }

  async fingerprint (options: AbortOptions = {}): Promise<LineFingerprint> {
    return await qemuFingerprint(this.init, this.goldens.chosenAccel, options)
  }

  /** the warm pool's processes at their measured size (PSS): QEMU itself, its translation cache, the pages its warm-up touched */
  reservedMB (): number {
    return this.pool.reservedMB()
  }

  memoryCostMB (memoryMB: number): number {
    // a clone shares the golden's pages until it writes them; the worst case is all of them
    return memoryMB + this.init.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: GoldenOptions = {}): Promise<GoldenImage> {
    this.assertStarted()
    return await this.goldens.build(request, options, (golden) => { this.pool.fill(golden) })
  }

  /**
   * Fills the warm pool of each QEMU golden (up to `poolSize` processes) and resolves when they
   * are full. A pool that fails to fill is logged, not thrown: clones are then made on demand.
   */
  async warm (goldens: GoldenImage[], options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.assertStarted()
    if (this.init.poolSize === 0) return
    await Promise.all(goldens.filter((g) => g.line === this.kind).map(async (golden) => { await this.pool.warm(golden, options) }))
  }

  /**
   * `options.network` puts the clone's NIC on a tap that the line makes on that bridge;
   * `options.nic` names a backend the caller made (the device and its starting state are the
   * golden's); neither: user-mode. A pooled process serves every backend (plugged at the claim).
   */
  async clone (golden: GoldenImage, vmid: string, options: QemuCloneOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    this.assertStarted()
    const chosen = checkCloneRequest(golden, vmid, options)
    if (this.vms.has(vmid) || this.claimed.has(vmid)) throw new ProductionError(`VM ${vmid} already exists`)
    this.claimed.add(vmid)
    try {
      const { vm, pooled } = await makeClone({ init: this.init, pool: this.pool, creating: this.creating }, golden, vmid, chosen, options)
      this.vms.set(vmid, vm)
      // a new pool process would take the CPU from this clone's first steps in the guest (TCG, few cores)
      if (pooled) this.refillAfterResume.set(vmid, golden)
      else this.pool.fill(golden)
      return { vmid, state: 'paused', goldenId: golden.id, pid: vm.pid, handle: vm.handle() }
    } finally {
      this.claimed.delete(vmid)
    }
  }

  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    try {
      return await this.resumeVm(vmid, options)
    } finally {
      this.refillFor(vmid)
    }
  }

  private refillFor (vmid: string): void {
    const golden = this.refillAfterResume.get(vmid)
    if (golden === undefined) return
    this.refillAfterResume.delete(vmid)
    this.pool.fill(golden)
  }

  private async resumeVm (vmid: string, options: AbortOptions): Promise<VmInfo> {
    const vm = await this.get(vmid, options)
    return await resumeClone(vm, vmid, this.init.cloneTimeoutMs, options)
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    const vm = await this.get(vmid, options)
    const state = await vm.state(options)
    if (state !== 'running') throw new ProductionError(`VM ${vmid} is ${state}, not running`)
    const agent = await vm.agent(options)
    return await agent.run(action, options)
  }

  async hostAction (vmid: string, params: HostParams, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    throw new UnsupportedHardwareError(`the qemu line cannot do the host action "${params.attach}" (VM ${vmid})`)
  }

  /** Runs a guest action and returns its output byte for byte (runAction decodes it as UTF-8). */
  async runBinary (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<BinaryActionResult> {
    const vm = await this.get(vmid, options)
    const state = await vm.state(options)
    if (state !== 'running') throw new ProductionError(`VM ${vmid} is ${state}, not running`)
    const agent = await vm.agent(options)
    return await agent.runBinary(action, options)
  }

  /** Resolves when the guest agent answers: the VM is up and can take actions. */
  async ping (vmid: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    const vm = await this.get(vmid, options)
    const agent = await vm.agent(options)
    await agent.ping(options)
  }

  /**
   * Finds the VM's folder by the handle's token, checks that it holds this vmid and that its QEMU
   * still runs. A VM whose QEMU died while the plant was away is gone (its memory is lost):
   * VmNotFoundError, while `list` and `inspect` show it `crashed` until `destroy` removes its folder.
   */
  async recover (vmid: string, handle: VmHandle, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    this.assertStarted()
    const token = handleString(handle, 'token')
    if (token === undefined || !TOKEN.test(token)) throw new VmNotFoundError(vmid, { cause: new Error(`the handle ${JSON.stringify(handle)} is not a qemu line's`) })
    const identity = await readIdentity(this.init.workDir, token, options)
    if (identity?.vmid !== vmid) throw new VmNotFoundError(vmid)
    let vm = this.vms.get(vmid)
    if (vm?.token !== token) {
      vm?.detach()
      vm = new LiveVm(token, identity, vmPaths(this.init.workDir, token))
      this.vms.set(vmid, vm)
    }
    if (!vm.alive()) throw new VmNotFoundError(vmid, { cause: new Error('its QEMU process is gone; its folder stays until destroy') })
    return await vm.info(options)
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const vm = await this.get(vmid, options)
    return await vm.info(options)
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.refillFor(vmid)
    let vm = this.vms.get(vmid)
    if (vm === undefined && this.started) {
      await this.reconcile(options)
      vm = this.vms.get(vmid)
    }
    if (vm === undefined) return
    vm.detach()
    // not abortable past this point: a VM half destroyed is worse than a late answer
    await this.removeFolder(vm.token, vm.pid)
    this.vms.delete(vmid)
    log('destroyed %s', vmid)
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    this.assertStarted()
    await this.reconcile(options)
    return await Promise.all([...this.vms.values()].map(async (vm) => await vm.info(options)))
  }

  /** adopts the work folder's complete clones, and removes its debris (see reconcileVms) */
  private async reconcile (options: AbortOptions = {}): Promise<void> {
    await reconcileVms(this.init.workDir, this.vms, (token) => this.creating.has(token) || this.pool.owns(token), options)
  }

  private async removeFolder (token: string, pid: number | undefined, found?: number[]): Promise<void> {
    await removeVmFolder(this.init.workDir, token, pid, found)
  }

  private async get (vmid: string, options: AbortOptions): Promise<LiveVm> {
    options.signal?.throwIfAborted()
    this.assertStarted()
    let vm = this.vms.get(vmid)
    if (vm === undefined) {
      await this.reconcile(options)
      vm = this.vms.get(vmid)
    }
    if (vm === undefined) throw new VmNotFoundError(vmid)
    return vm
  }

  private assertStarted (): void {
    if (!this.started) throw new ProductionError('the qemu line is not started')
  }
}
