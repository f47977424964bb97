import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { ProductionError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage, type GoldenRequest, type GuestAction, type ProductionLine, type VmInfo } from '../index.js'
import { interpretScript } from './script.js'
import type { HostParams } from '../../planner/index.js'
import { systemClock, type Clock } from '../../actors/runtime/clock.js'

/** Latencies of the simulated line, in ms. */
export interface SimLineInit {
  /** @default 0 */
  cloneMs?: number
  /** @default 0 */
  resumeMs?: number
  /** per guest action; @default 0 */
  actionMs?: number
  /** to make a golden image; @default 0 */
  goldenMs?: number
  /** fixed memory overhead per VM in MB; @default 0 */
  overheadMB?: number
  clock?: Clock
  /** where golden images get a small artifact file, so that they can be catalogued and copied; none if absent */
  dir?: string
}

export const SIM_DEFAULTS = { cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0, overheadMB: 0 }

/** the disk size sim images claim when the request names none */
const SIM_DISK_MB = 1024

/** `attached`: what host actions plugged into the VM */
interface SimVm { info: VmInfo, golden: GoldenImage, attached: HostParams[] }

/** A production line without a hypervisor: VMs are records in memory, time is spent on a clock. */
class SimLine implements ProductionLine {
  readonly kind = 'sim'
  private readonly latency: typeof SIM_DEFAULTS
  private readonly clock: Clock
  private readonly vms = new Map<string, SimVm>()
  private readonly goldens = new Map<string, GoldenImage>()
  private readonly dir?: string

  constructor (init: SimLineInit) {
    this.latency = { ...SIM_DEFAULTS, ...stripUndefined(init) }
    this.clock = init.clock ?? systemClock
    this.dir = init.dir
  }

  async start (): Promise<void> {}

  async stop (options: AbortOptions & { destroyAll?: boolean } = {}): Promise<void> {
    if (options.destroyAll === true) this.vms.clear()
  }

  memoryCostMB (memoryMB: number): number {
    return memoryMB + this.latency.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
    options.signal?.throwIfAborted()
    const hardware = { ...request.hardware, diskMB: request.hardware.diskMB ?? SIM_DISK_MB }
    const descriptor = { line: this.kind, hardware, applied: request.actions.map((a) => a.id) }
    const id = createHash('sha256').update(JSON.stringify(descriptor)).digest('hex').slice(0, 32)
    const known = this.goldens.get(id)
    if (known !== undefined) return known
    await this.clock.sleep(this.latency.goldenMs, options)
    for (const action of request.actions) {
      const outcome = interpretScript(action.run)
      if (outcome.exitCode !== 0) throw new ProductionError(`golden action ${action.id} exited with ${outcome.exitCode}`)
    }
    const artifacts: Record<string, string> = {}
    if (this.dir !== undefined) {
      await mkdir(this.dir, { recursive: true })
      await writeFile(join(this.dir, `${id}.img`), JSON.stringify(descriptor) + '\n')
      artifacts.disk = `${id}.img`
    }
    const golden: GoldenImage = { id, ...descriptor, dir: this.dir ?? '', artifacts, createdAt: this.clock.now() }
    this.goldens.set(id, golden)
    return golden
  }

  async clone (golden: GoldenImage, vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    if (this.vms.has(vmid)) throw new ProductionError(`VM ${vmid} already exists`)
    await this.clock.sleep(this.latency.cloneMs, options)
    const info: VmInfo = { vmid, state: 'paused', goldenId: golden.id }
    this.vms.set(vmid, { info, golden, attached: [] })
    return { ...info }
  }

  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const vm = this.get(vmid)
    await this.clock.sleep(this.latency.resumeMs, options)
    vm.info.state = 'running'
    return { ...vm.info }
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    const vm = this.get(vmid)
    if (vm.info.state !== 'running') throw new ProductionError(`VM ${vmid} is ${vm.info.state}, not running`)
    const started = this.clock.now()
    await this.clock.sleep(this.latency.actionMs, options)
    const outcome = interpretScript(action.run)
    return { ...outcome, durationMs: this.clock.now() - started, timedOut: false }
  }

  async hostAction (vmid: string, params: HostParams, options: AbortOptions = {}): Promise<void> {
    const vm = this.get(vmid)
    await this.clock.sleep(this.latency.actionMs, options)
    vm.attached.push(params)
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    return { ...this.get(vmid).info }
  }

  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.vms.delete(vmid)
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    options.signal?.throwIfAborted()
    return [...this.vms.values()].map((vm) => ({ ...vm.info }))
  }

  private get (vmid: string): SimVm {
    const vm = this.vms.get(vmid)
    if (vm === undefined) throw new VmNotFoundError(vmid)
    return vm
  }
}

function stripUndefined (init: SimLineInit): Partial<typeof SIM_DEFAULTS> {
  return Object.fromEntries(Object.entries(init).filter(([k, v]) => v !== undefined && k in SIM_DEFAULTS)) as Partial<typeof SIM_DEFAULTS>
}

export function simLine (init: SimLineInit = {}): ProductionLine {
  return new SimLine(init)
}
