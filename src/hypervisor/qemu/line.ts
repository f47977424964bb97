import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { ensureGuestImage, type GuestImage } from '../guest/index.js'
import { ProductionError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage, type GoldenRequest, type GuestAction, type ProductionLine, type VmInfo } from '../index.js'
import type { Hardware } from '../../planner/index.js'
import { resolveAccel } from './accel.js'
import { macAddress } from './args.js'
import { GOLDEN_FILES, hardwareProblem, prepareGolden, readGoldenMeta } from './golden.js'
import { checkGoldenDirOnTmpfs, type QemuLineInit } from './init.js'
import { LiveVm } from './live-vm.js'
import { runIncoming } from './migrate.js'
import { addNic } from './nic.js'
import { killAndWait } from './process.js'
import { spawnIncoming, type IncomingVm } from './spawn-clone.js'
import { acquireWorkDirLock, readPidFile, releaseWorkDirLock, scanRecords, vmPaths, writeRecord, type VmRecord } from './vm-store.js'
import { WarmPool } from './warm-pool.js'

const log = logger('vmplant:plant:qemu')

const VMID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/** The QEMU production line: goldens checkpointed on tmpfs, clones resumed from them copy-on-write. */
export class QemuLine implements ProductionLine {
  readonly kind = 'qemu'
  private readonly vms = new Map<string, LiveVm>()
  /** tokens of folders this line is filling right now; anything else half-made is debris */
  private readonly creating = new Set<string>()
  private readonly claimed = new Set<string>()
  private readonly pool: WarmPool
  private started = false
  private building = new AbortController()
  private readonly builds = new Set<Promise<GoldenImage>>()
  private image: Promise<GuestImage> | undefined
  private accel: Promise<'kvm' | 'tcg'> | undefined

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

  unsupported (hardware: Hardware): string | undefined {
    return hardwareProblem(hardware)
  }

  /** a waiting pool process has its RAM mapped but untouched: QEMU itself and its translation cache */
  reservedMB (): number {
    return this.pool.total() * this.init.overheadMB
  }

  memoryCostMB (memoryMB: number): number {
    // a clone shares the golden's pages until it writes them; the worst case is all of them
    return memoryMB + this.init.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
    this.assertStarted()
    // a build boots a QEMU of its own: stop() aborts it, and waits until its process is gone
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, this.building.signal]) : this.building.signal
    const work = (async () => {
      const image = await this.guestImage({ signal })
      const accel = await this.acceleration(image, { signal })
      return await prepareGolden({ init: this.init, image, accel }, request, { signal })
    })()
    this.builds.add(work)
    try {
      const golden = await work
      this.pool.fill(golden)
      return golden
    } finally {
      this.builds.delete(work)
    }
  }

  /** Fills the warm pool for the golden (up to `poolSize`) and waits until it is full. */
  async warm (golden: GoldenImage, options: AbortOptions = {}): Promise<void> {
    this.assertStarted()
    await this.pool.warm(golden, options)
  }

  async clone (golden: GoldenImage, vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    this.assertStarted()
    if (golden.line !== this.kind) throw new ProductionError(`golden ${golden.id} was made by the ${golden.line} line, not by qemu`)
    if (!VMID.test(vmid)) throw new ProductionError(`vmid "${vmid}" must be 1 to 128 letters, digits, "_", "." or "-"`)
    if (this.vms.has(vmid) || this.claimed.has(vmid)) throw new ProductionError(`VM ${vmid} already exists`)
    this.claimed.add(vmid)
    try {
      const started = Date.now()
      const pooled = this.pool.take(golden.id)
      const token = pooled?.token ?? randomBytes(6).toString('hex')
      const paths = vmPaths(this.init.workDir, token)
      const record: VmRecord = { version: 1, token, vmid, goldenId: golden.id, goldenDir: golden.dir, phase: 'creating', mac: macAddress(randomBytes(3)), createdAt: started }
      this.creating.add(token)
      let incomingVm: IncomingVm | undefined = pooled
      try {
        if (pooled !== undefined) {
          // already loaded, NIC in, translation cache warm, paused
          record.mac = pooled.mac
          record.nic = pooled.nic
        } else {
          const meta = await readGoldenMeta(golden.dir, options)
          incomingVm = await spawnIncoming(this.init, meta, golden.dir, paths, token, options)
          await runIncoming(incomingVm.qmp, join(golden.dir, GOLDEN_FILES.state), { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
        }
        if (incomingVm === undefined) throw new ProductionError('no QEMU process for the clone')
        record.pid = incomingVm.pid
        record.phase = 'ready'
        await writeRecord(this.init.workDir, record, options)
      } catch (err) {
        pooled?.agent.close()
        incomingVm?.qmp.close()
        if (incomingVm !== undefined) await killAndWait(incomingVm.pid, token)
        await rm(paths.dir, { recursive: true, force: true })
        throw err
      } finally {
        this.creating.delete(token)
      }
      this.vms.set(vmid, new LiveVm(record, paths, incomingVm.qmp, pooled?.agent))
      log('cloned %s from golden %s in %d ms%s', vmid, golden.id, Date.now() - started, pooled !== undefined ? ' (warm pool)' : '')
      this.pool.fill(golden)
      return { vmid, state: 'paused', goldenId: golden.id, pid: incomingVm.pid }
    } finally {
      this.claimed.delete(vmid)
    }
  }

  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const vm = await this.get(vmid, options)
    const qmp = await vm.qmp(options)
    const status = await qmp.execute<{ status: string }>('query-status', undefined, options)
    if (status.status === 'running') return await vm.info(options)
    await qmp.execute('cont', undefined, options)
    if (this.init.nic && vm.record.nic !== true) {
      // after cont: the guest's hotplug work then overlaps with whatever runs first in it
      await addNic(qmp, vm.record.mac, options)
      vm.record.nic = true
      await writeRecord(this.init.workDir, vm.record, options)
    }
    return { vmid, state: 'running', goldenId: vm.record.goldenId, pid: vm.pid }
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    const vm = await this.get(vmid, options)
    const state = await vm.state(options)
    if (state !== 'running') throw new ProductionError(`VM ${vmid} is ${state}, not running`)
    const agent = await vm.agent(options)
    return await agent.run(action, options)
  }

  /** Resolves when the guest agent answers: the VM is up and can take actions. */
  async ping (vmid: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    const vm = await this.get(vmid, options)
    const agent = await vm.agent(options)
    await agent.ping(options)
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const vm = await this.get(vmid, options)
    return await vm.info(options)
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    let vm = this.vms.get(vmid)
    if (vm === undefined && this.started) {
      await this.reconcile(options)
      vm = this.vms.get(vmid)
    }
    if (vm === undefined) return
    vm.detach()
    const pid = vm.pid
    // not abortable past this point: a VM half destroyed is worse than a late answer
    if (pid !== undefined) await killAndWait(pid, vm.record.token)
    await rm(vm.paths.dir, { recursive: true, force: true })
    this.vms.delete(vmid)
    log('destroyed %s', vmid)
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    this.assertStarted()
    await this.reconcile(options)
    return await Promise.all([...this.vms.values()].map(async (vm) => await vm.info(options)))
  }

  /**
   * Makes the in-memory view match the work folder: adopts VMs a previous line left running
   * (or dead: they show as crashed until destroyed), and removes debris (half-made clones,
   * pool processes of a previous line, folders without a record).
   */
  private async reconcile (options: AbortOptions = {}): Promise<void> {
    const found = await scanRecords(this.init.workDir, options)
    const tokens = new Set(found.map((f) => f.token))
    for (const [vmid, vm] of this.vms) {
      if (!tokens.has(vm.record.token)) { vm.detach(); this.vms.delete(vmid) }
    }
    for (const { token, record } of found) {
      if (this.creating.has(token) || this.pool.owns(token)) continue
      const paths = vmPaths(this.init.workDir, token)
      if (record?.phase === 'ready' && record.vmid !== null) {
        if (this.vms.get(record.vmid)?.record.token !== token) this.vms.set(record.vmid, new LiveVm(record, paths))
        continue
      }
      const pid = record?.pid ?? readPidFile(paths)
      log('removing debris %s (%s)', token, record === undefined ? 'no record' : record.vmid === null ? 'pooled' : 'half-made')
      if (pid !== undefined) await killAndWait(pid, token)
      await rm(paths.dir, { recursive: true, force: true })
    }
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
    this.image ??= ensureGuestImage({ ...this.init.image, cacheDir: this.init.cacheDir }, options)
    this.image.catch(() => { this.image = undefined })
    return await this.image
  }

  private async acceleration (image: GuestImage, options: AbortOptions): Promise<'kvm' | 'tcg'> {
    this.accel ??= resolveAccel(this.init, image, options)
    this.accel.catch(() => { this.accel = undefined })
    return await this.accel
  }

  private assertStarted (): void {
    if (!this.started) throw new ProductionError('the qemu line is not started')
  }
}
