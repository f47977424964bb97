import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { ensureGuestImage, type BinaryActionResult, type GuestImage } from '../guest/index.js'
import {
  ProductionError, UnsupportedHardwareError, VmNotFoundError, type AbortOptions, type ActionResult, type CloneOptions, type GoldenImage, type GoldenOptions, type GoldenRequest,
  type GuestAction, type HostParams, type LineCapabilities, type LineProgress, type LineFingerprint, type ProductionLine, type VmHandle, type VmInfo
} from '../index.js'
import { attachVmTap } from '../net/index.js'
import { handleString } from '../fingerprint.js'
import { acquireWorkDirLock, releaseWorkDirLock } from '../work-lock.js'
import { resolveAccel } from './accel.js'
import { macAddress } from './args.js'
import { qemuCapabilities, qemuFingerprint } from './capabilities.js'
import { GOLDEN_FILES, prepareGolden, readGoldenMeta, removeAbandonedBuilds } from './golden.js'
import { qemuGoldenImporter, removeAbandonedImports, type QemuGoldenImporter } from './golden-import.js'
import { checkGoldenDirOnTmpfs, type QemuLineInit } from './init.js'
import { LiveVm } from './live-vm.js'
import { runIncoming } from './migrate.js'
import { nicFor, plugBackend } from './network.js'
import { removeVmFolder } from './remove-vm.js'
import { checkNicBackend, DEFAULT_NIC_BACKEND, GUEST_NIC, type NicBackend } from './nic.js'
import { killAndWait } from './process.js'
import { spawnIncoming, type IncomingVm } from './spawn-clone.js'
import { readIdentity, scanFolders, scanProcesses, TOKEN, vmPaths, writeIdentity, type VmIdentity } from './vm-store.js'
import { WarmPool } from './warm-pool.js'

const log = logger('vmplant:plant:qemu')

/** Options of the QEMU line's clone: the port's `network` (a bridge: the line makes the tap), or a NIC backend the caller made. */
export interface QemuCloneOptions extends CloneOptions {
  /** where the clone's NIC sends its frames, when no `network` is given; @default { type: 'user' } */
  nic?: NicBackend
}

const VMID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

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
  private building = new AbortController()
  private readonly builds = new Set<Promise<GoldenImage>>()
  private image: Promise<GuestImage> | undefined
  /** callers of prepareGolden waiting on the guest image, who see its download and build */
  private readonly imageWatchers = new Set<(event: LineProgress) => void>()
  private accel: Promise<'kvm' | 'tcg'> | undefined
  private chosenAccel: 'kvm' | 'tcg' | undefined

  constructor (readonly init: QemuLineInit) {
    this.pool = new WarmPool(init)
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
    this.building.abort(new ProductionError('the qemu line is stopping'))
    await Promise.allSettled([...this.builds])
    this.building = new AbortController()
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
    return await qemuFingerprint(this.init, this.chosenAccel, options)
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
    // a build boots a QEMU of its own: stop() aborts it, and waits until its process is gone
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, this.building.signal]) : this.building.signal
    const watcher = options.onProgress
    // the guest image is built once for every golden that waits for it: each caller sees its steps
    if (watcher !== undefined) this.imageWatchers.add(watcher)
    const work = (async () => {
      const image = await this.guestImage({ signal })
      const accel = await this.acceleration(image, { signal })
      const onProgress = (event: LineProgress): void => { this.init.onProgress?.(event); watcher?.(event) }
      return await prepareGolden({ init: { ...this.init, onProgress }, image, accel }, request, { signal })
    })()
    this.builds.add(work)
    try {
      const golden = await work
      this.pool.fill(golden)
      return golden
    } finally {
      this.builds.delete(work)
      if (watcher !== undefined) this.imageWatchers.delete(watcher)
    }
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
    if (options.nic !== undefined && options.network !== undefined) throw new ProductionError('a clone takes a network (a bridge for its tap) or a NIC backend, not both')
    const chosen = options.nic === undefined ? undefined : checkNicBackend(options.nic)
    if (options.network?.tap !== undefined) checkNicBackend({ type: 'tap', ifname: options.network.tap })
    if (golden.line !== this.kind) throw new ProductionError(`golden ${golden.id} was made by the ${golden.line} line, not by qemu`)
    if (!VMID.test(vmid)) throw new ProductionError(`vmid "${vmid}" must be 1 to 128 letters, digits, "_", "." or "-"`)
    if (this.vms.has(vmid) || this.claimed.has(vmid)) throw new ProductionError(`VM ${vmid} already exists`)
    this.claimed.add(vmid)
    try {
      const started = Date.now()
      const meta = await readGoldenMeta(golden.dir, options)
      if (meta.mac === undefined && (options.nic !== undefined || options.network !== undefined)) throw new ProductionError(`golden ${golden.id} has no NIC (made with nic: false): a clone of it cannot have a NIC backend or a network`)
      const pooled = await this.pool.take(golden.id)
      const token = pooled?.token ?? randomBytes(6).toString('hex')
      const paths = vmPaths(this.init.workDir, token)
      const nic = options.network === undefined ? undefined : nicFor(token, options.network)
      const backend: NicBackend = nic !== undefined ? { type: 'tap', ifname: nic.tap } : chosen ?? DEFAULT_NIC_BACKEND
      const identity: VmIdentity = { version: 2, vmid, goldenId: golden.id, createdAt: started }
      if (meta.mac !== undefined) identity.mac = macAddress(randomBytes(3))
      if (nic !== undefined) identity.nic = nic
      this.creating.add(token)
      let incomingVm: IncomingVm | undefined = pooled
      try {
        if (nic !== undefined) {
          await mkdir(paths.dir, { recursive: true })
          await attachVmTap(paths.dir, nic, options)
        }
        if (pooled === undefined) {
          incomingVm = await spawnIncoming(this.init, meta, golden.dir, paths, token, backend, options)
          await runIncoming(incomingVm.qmp, join(golden.dir, GOLDEN_FILES.state), { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
        } else if (pooled.nic) {
          // already loaded, translation cache warm, paused: only its NIC's backend is missing
          await plugBackend(pooled.qmp, backend, options)
        }
        if (incomingVm === undefined) throw new ProductionError('no QEMU process for the clone')
        // last: until the identity is there, a restarted line removes the folder as half made
        await writeIdentity(this.init.workDir, token, identity, options)
      } catch (err) {
        pooled?.agent.close()
        incomingVm?.qmp.close()
        if (incomingVm !== undefined) await killAndWait(incomingVm.pid, token)
        await this.removeFolder(token, incomingVm?.pid, []).catch((cleanup) => { log.error('could not remove the half-made clone %s: %e', token, cleanup) })
        throw err
      } finally {
        this.creating.delete(token)
      }
      const vm = new LiveVm(token, identity, paths, incomingVm.pid, incomingVm.qmp, pooled?.agent)
      this.vms.set(vmid, vm)
      log('cloned %s from golden %s in %d ms%s%s', vmid, golden.id, Date.now() - started, pooled !== undefined ? ' (warm pool)' : '', nic !== undefined ? ` on ${nic.bridge} (tap ${nic.tap})` : '')
      // a new pool process would take the CPU from this clone's first steps in the guest (TCG, few cores)
      if (pooled !== undefined) this.refillAfterResume.set(vmid, golden)
      else this.pool.fill(golden)
      return { vmid, state: 'paused', goldenId: golden.id, pid: incomingVm.pid, handle: vm.handle() }
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
    const qmp = await vm.qmp(options)
    const status = await qmp.execute<{ status: string }>('query-status', undefined, options)
    if (status.status === 'running') return await vm.info(options)
    // connected before cont, so that the guest never sees the agent's host go away and come back
    const agent = await vm.agent(options)
    await qmp.execute('cont', undefined, options)
    // the first step in the guest, before any action: the NIC leaves the golden's MAC for its own
    if (vm.identity.mac !== undefined) await agent.setMac(GUEST_NIC, vm.identity.mac, { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
    const info: VmInfo = { vmid, state: 'running', goldenId: vm.identity.goldenId, pid: vm.pid, handle: vm.handle() }
    if (vm.identity.mac !== undefined) info.mac = vm.identity.mac
    return info
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

  /**
   * Makes the in-memory view match the work folder: adopts every complete clone (running, or
   * dead: it shows as crashed until destroyed), and removes debris: folders without an identity
   * (a clone that a killed plant left half made, pool processes of a previous line) and QEMU
   * processes of this folder whose clone folder is gone.
   */
  private async reconcile (options: AbortOptions = {}): Promise<void> {
    const folders = await scanFolders(this.init.workDir, options)
    const processes = await scanProcesses(this.init.workDir, options)
    const complete = new Map(folders.filter((f) => f.identity !== undefined).map((f) => [f.token, f.identity as VmIdentity]))
    for (const [vmid, vm] of this.vms) {
      if (!complete.has(vm.token)) { vm.detach(); this.vms.delete(vmid) }
    }
    for (const [token, identity] of complete) {
      if (this.vms.get(identity.vmid)?.token !== token) this.vms.set(identity.vmid, new LiveVm(token, identity, vmPaths(this.init.workDir, token)))
    }
    const debris = new Set([...folders.map((f) => f.token), ...processes.keys()].filter((t) => !complete.has(t)))
    for (const token of debris) {
      if (this.creating.has(token) || this.pool.owns(token)) continue
      log('removing debris %s (%s)', token, folders.some((f) => f.token === token) ? 'a clone never completed' : 'a process without its folder')
      await this.removeFolder(token, undefined, processes.get(token) ?? [])
    }
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

  private async guestImage (options: AbortOptions): Promise<GuestImage> {
    const onProgress = (event: LineProgress): void => {
      this.init.onProgress?.(event)
      for (const watcher of this.imageWatchers) watcher(event)
    }
    this.image ??= ensureGuestImage({ ...this.init.image, cacheDir: this.init.cacheDir, onProgress }, options)
    this.image.catch(() => { this.image = undefined })
    return await this.image
  }

  private async acceleration (image: GuestImage, options: AbortOptions): Promise<'kvm' | 'tcg'> {
    this.accel ??= resolveAccel(this.init, image, options)
    this.accel.then((chosen) => { this.chosenAccel = chosen }, () => { this.accel = undefined })
    return await this.accel
  }

  private assertStarted (): void {
    if (!this.started) throw new ProductionError('the qemu line is not started')
  }
}
