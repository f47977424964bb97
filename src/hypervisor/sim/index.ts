import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import {
  checkHardware, ProductionError, UnsupportedHardwareError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage,
  type GoldenRequest, type GuestAction, type CloneOptions, type NetworkAttachment, type HostParams, type LineCapabilities, type LineFingerprint, type ProductionLine, type VmHandle, type VmInfo
} from '../index.js'
import { systemClock, type Clock } from '../../interface/clock.js'
import { writeFileDurably } from '../../fs/index.js'
import { interpretScript } from './script.js'
import { folderStore, memoryStore, type SimVm, type SimVmStore } from './vm-store.js'

/** A latency in ms: fixed, or drawn anew each time (the simulator draws from a seeded source). */
export type SimLatency = number | (() => number)

/** Latencies of the simulated line, in ms. */
export interface SimLineInit {
  /** @default 0 */
  cloneMs?: SimLatency
  /** @default 0 */
  resumeMs?: SimLatency
  /** per guest action; @default 0 */
  actionMs?: SimLatency
  /** to make a golden image; @default 0 */
  goldenMs?: SimLatency
  /** fixed memory overhead per VM in MB; @default 0 */
  overheadMB?: number
  /** every latency is spent on it, never on the host's timers; @default systemClock */
  clock?: Clock
  /**
   * Where golden images get a small artifact file (so that they can be catalogued and copied) and
   * each VM a small file (`vms/`), so that VMs outlive this object as they outlive the plant on the
   * real lines: a new line over the same folder lists them and `recover` finds them. Without it,
   * VMs live in this object's memory and a restarted plant finds none.
   */
  dir?: string
}

export const SIM_DEFAULTS = { cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0, overheadMB: 0 }
type Latencies = Omit<typeof SIM_DEFAULTS, 'cloneMs' | 'resumeMs' | 'actionMs' | 'goldenMs'> & Record<'cloneMs' | 'resumeMs' | 'actionMs' | 'goldenMs', SimLatency>
const draw = (latency: SimLatency): number => typeof latency === 'number' ? latency : latency()

/** the disk size sim images claim when the request names none */
const SIM_DISK_MB = 1024
const SIM_MIN_MEMORY_MB = 16
const DEFAULT_ACTION_TIMEOUT_MS = 60_000

/** A production line without a hypervisor: VMs are small records, time is spent on a clock. */
class SimLine implements ProductionLine {
  readonly kind = 'sim'
  private readonly latency: Latencies
  private readonly clock: Clock
  private readonly store: SimVmStore
  /** the files each golden's actions left, by golden id */
  private readonly goldens = new Map<string, { golden: GoldenImage, files: Record<string, string> }>()
  private readonly dir?: string
  /** per VM, the last change in flight: changes to one VM are applied one after the other */
  private readonly changes = new Map<string, Promise<unknown>>()

  constructor (init: SimLineInit) {
    this.latency = { ...SIM_DEFAULTS, ...stripUndefined(init) }
    this.clock = init.clock ?? systemClock
    this.dir = init.dir
    this.store = init.dir !== undefined ? folderStore(init.dir) : memoryStore()
  }

  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.store.clean()
  }

  async stop (options: AbortOptions & { destroyAll?: boolean } = {}): Promise<void> {
    await Promise.allSettled([...this.changes.values()])
    if (options.destroyAll === true) {
      for (const vm of await this.store.list()) await this.store.delete(vm.vmid)
    }
  }

  capabilities (): LineCapabilities {
    return { hostActions: ['iso', 'nic'], networks: true, bridgeNic: true, minMemoryMB: SIM_MIN_MEMORY_MB, liveReattach: this.dir !== undefined }
  }

  async fingerprint (options: AbortOptions = {}): Promise<LineFingerprint> {
    options.signal?.throwIfAborted()
    return {
      kind: this.kind,
      version: 'vmplant sim line',
      acceleration: 'none',
      healthy: true,
      detail: this.dir !== undefined ? `simulated VMs kept as files in ${this.dir}` : 'simulated VMs kept in memory: a restarted plant finds none'
    }
  }

  reservedMB (): number {
    return 0
  }

  memoryCostMB (memoryMB: number): number {
    return memoryMB + this.latency.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
    options.signal?.throwIfAborted()
    checkHardware(this.capabilities(), this.kind, request.hardware)
    const hardware = { ...request.hardware, diskMB: request.hardware.diskMB ?? SIM_DISK_MB }
    const descriptor = { line: this.kind, hardware, applied: request.actions.map((a) => a.id) }
    const id = createHash('sha256').update(JSON.stringify(descriptor)).digest('hex').slice(0, 32)
    const known = this.goldens.get(id)
    if (known !== undefined) return known.golden
    await this.clock.sleep(draw(this.latency.goldenMs), options)
    const files: Record<string, string> = {}
    for (const action of request.actions) {
      const outcome = interpretScript(action.run, { files, budgetMs: action.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS })
      if (outcome.exitCode !== 0) throw new ProductionError(`golden action ${action.id} ${outcome.timedOut ? 'timed out' : `exited with ${outcome.exitCode}`}`)
    }
    const artifacts: Record<string, string> = {}
    if (this.dir !== undefined) {
      await mkdir(this.dir, { recursive: true })
      await writeFileDurably(join(this.dir, `${id}.img`), JSON.stringify({ ...descriptor, files }) + '\n', options)
      artifacts.disk = `${id}.img`
    }
    const golden: GoldenImage = { id, ...descriptor, dir: this.dir ?? '', artifacts, createdAt: this.clock.now() }
    this.goldens.set(id, { golden, files })
    return golden
  }

  async warm (_goldens: GoldenImage[], options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
  }

  /** Nothing of the VM exists until the clone latency has passed; an abort before then leaves nothing. */
  async clone (golden: GoldenImage, vmid: string, options: CloneOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    if (golden.line !== this.kind) throw new ProductionError(`golden ${golden.id} was made by the ${golden.line} line, not by sim`)
    return await this.change(vmid, async () => {
      if (await this.store.get(vmid) !== undefined) throw new ProductionError(`VM ${vmid} already exists`)
      const files = await this.goldenFiles(golden)
      await this.clock.sleep(draw(this.latency.cloneMs), options)
      const vm: SimVm = { version: 1, vmid, goldenId: golden.id, state: 'paused', attached: [], files, createdAt: this.clock.now(), ...(options.network !== undefined ? { network: { ...options.network } } : {}) }
      options.signal?.throwIfAborted()
      await this.store.put(vm)
      return infoOf(vm)
    })
  }

  /** the domain network the VM's NIC was given at clone time, if any (the sim line only records it) */
  async attachment (vmid: string, options: AbortOptions = {}): Promise<NetworkAttachment | undefined> {
    return (await this.get(vmid, options)).network
  }

  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    await this.get(vmid, options)
    await this.clock.sleep(draw(this.latency.resumeMs), options)
    return await this.change(vmid, async () => {
      const vm = await this.get(vmid, options)
      vm.state = 'running'
      await this.store.put(vm)
      return infoOf(vm)
    })
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    const before = await this.get(vmid, options)
    if (before.state !== 'running') throw new ProductionError(`VM ${vmid} is ${before.state}, not running`)
    const budgetMs = action.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS
    const started = this.clock.now()
    // a dry run tells how long the script takes; its effects apply at the end, on the VM as it is then
    const dry = interpretScript(action.run, { files: { ...before.files }, budgetMs })
    await this.clock.sleep(draw(this.latency.actionMs) + dry.elapsedMs, options)
    return await this.change(vmid, async () => {
      const vm = await this.get(vmid, options)
      const outcome = interpretScript(action.run, { files: vm.files, budgetMs })
      await this.store.put(vm)
      return { exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr, durationMs: this.clock.now() - started, timedOut: outcome.timedOut }
    })
  }

  async hostAction (vmid: string, params: HostParams, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (!this.capabilities().hostActions.includes(params.attach)) throw new UnsupportedHardwareError(`the sim line cannot do the host action "${params.attach}"`)
    await this.get(vmid, options)
    await this.clock.sleep(draw(this.latency.actionMs), options)
    await this.change(vmid, async () => {
      const vm = await this.get(vmid, options)
      vm.attached.push(params)
      await this.store.put(vm)
    })
  }

  async recover (vmid: string, handle: VmHandle, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    if (handle.line !== this.kind || handle.vmid !== vmid) throw new VmNotFoundError(vmid, { cause: new Error(`the handle ${JSON.stringify(handle)} is not this sim line's`) })
    return infoOf(await this.get(vmid, options))
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    return infoOf(await this.get(vmid, options))
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.change(vmid, async () => { await this.store.delete(vmid) })
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    options.signal?.throwIfAborted()
    return (await this.store.list()).map(infoOf)
  }

  private async get (vmid: string, options: AbortOptions): Promise<SimVm> {
    options.signal?.throwIfAborted()
    const vm = await this.store.get(vmid)
    if (vm === undefined) throw new VmNotFoundError(vmid)
    return vm
  }

  /** the golden's files: known to this object, else in its artifact (a golden made by an earlier line, or fetched); none when it holds none */
  private async goldenFiles (golden: GoldenImage): Promise<Record<string, string>> {
    const known = this.goldens.get(golden.id)
    if (known !== undefined) return { ...known.files }
    const disk = golden.artifacts.disk
    if (disk === undefined || golden.dir === '') return {}
    try {
      const files = (JSON.parse(await readFile(join(golden.dir, disk), 'utf8')) as { files?: unknown }).files
      return typeof files === 'object' && files !== null ? { ...(files as Record<string, string>) } : {}
    } catch {
      return {}
    }
  }

  /** Runs `fn` after the VM's earlier changes, so that two actions on one VM do not lose each other's writes. */
  private async change<T> (vmid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.changes.get(vmid) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const settled = run.then(() => {}, () => {})
    this.changes.set(vmid, settled)
    void settled.then(() => { if (this.changes.get(vmid) === settled) this.changes.delete(vmid) })
    return await run
  }
}

function infoOf (vm: SimVm): VmInfo {
  return { vmid: vm.vmid, state: vm.state, goldenId: vm.goldenId, handle: { line: 'sim', vmid: vm.vmid } }
}

function stripUndefined (init: SimLineInit): Partial<Latencies> {
  return Object.fromEntries(Object.entries(init).filter(([k, v]) => v !== undefined && k in SIM_DEFAULTS)) as Partial<Latencies>
}

/** The simulated production line; see SimLineInit for where its VMs live. */
/** The sim line, which also tells the network attachment it recorded for a VM. */
export interface SimProductionLine extends ProductionLine {
  attachment(vmid: string, options?: AbortOptions): Promise<NetworkAttachment | undefined>
}

export function simLine (init: SimLineInit = {}): SimProductionLine {
  return new SimLine(init)
}
