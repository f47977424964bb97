import { isDhcp, type VmSpec } from '../../planner/index.js'
import { ProductionFailedError, type Clock, type LineProgress, type NetworkAttachment, type ProductionLine, type VmHandle } from '../../interface/index.js'
import type { WarehouseRecord } from '../../interface/index.js'
import type { GoldenImages, ImageChoice } from '../../images/index.js'
import { configure, type Configuration } from './configure.js'
import { configureGuestNetwork, type GuestNic } from './guest-network.js'
import type { Faults } from './ports.js'
import type { ProductionStep } from './progress.js'

export interface ProductionResult extends Configuration {
  image: WarehouseRecord
  /** ids of the request's actions the golden image already had */
  cloned: string[]
  cloningMs: number
  configuringMs: number
  /** the driver's handle, kept in the VM's record */
  handle: VmHandle
  /** the NIC on the domain's bridge, as the guest reported it; absent without a bridge */
  nic?: GuestNic
}

export interface ProductionParts {
  line: ProductionLine
  images: GoldenImages
  clock: Clock
  faults?: Faults | undefined
  /** makes the domain's bridge and names the clone's tap on it; absent: no domain network */
  attach?: ((signal: AbortSignal) => Promise<NetworkAttachment>) | undefined
  /** why the VM gets no NIC on a domain network, for a spec that sets an address; absent with `attach` */
  networkless?: string | undefined
  /** sees the production's steps (`productionSteps`), for the person who ordered the VM */
  progress?: ((step: ProductionStep | LineProgress) => void) | undefined
}

/**
 * Finds the golden image for a spec: the warehouse image that saves the most actions; with none,
 * a peer's image found through the DHT (fetched into the warehouse first; a failed fetch is
 * logged and skipped), or else a new base image (no actions applied) built by the line.
 * A plant that has an admissible image does not search the DHT at create time: a search costs up
 * to the lookup deadline, while a local clone costs milliseconds.
 */
export async function findGolden (parts: ProductionParts, spec: VmSpec, signal: AbortSignal): Promise<ImageChoice> {
  const { line, clock, images, progress } = parts
  const wanted = `${spec.hardware.memoryMB} MB, ${spec.actions.length} action(s)`
  progress?.({ step: 'golden', phase: 'start', detail: `finding a golden image (${wanted})` })
  const found = await images.bestFor(spec, line.kind, { fetch: true, signal, onProgress: progress })
  if (found !== undefined) {
    progress?.({ step: 'golden', phase: 'done', detail: `image ${found.plan.image.id.slice(0, 12)} has ${found.plan.cloned.length} of the ${spec.actions.length} action(s)` })
    return found
  }
  const golden = await line.prepareGolden({ hardware: spec.hardware, actions: [] }, { signal, onProgress: progress })
  const record = await images.catalogue({ ...golden, applied: [] }, 'built', clock.now(), { signal })
  const base = await images.bestFor(spec, line.kind, { signal })
  if (base === undefined) throw new ProductionFailedError(`the ${line.kind} line made golden image ${record.id}, but it does not match the request's hardware`)
  progress?.({ step: 'golden', phase: 'done', detail: `built base image ${record.id.slice(0, 12)}; all ${spec.actions.length} action(s) to run` })
  return base
}

/**
 * The Production Process Planner's run: choose a golden image, clone it, resume it, run the
 * remaining actions. A failure or an abort (the order's expiry, a cancel) destroys the half-made
 * VM before it is reported, so nothing is left behind.
 */
export async function produce (parts: ProductionParts, vmid: string, spec: VmSpec, signal: AbortSignal): Promise<ProductionResult> {
  const { line, images, clock, faults, progress } = parts
  const started = clock.now()
  // the line's guest has a NIC on the domain's bridge that the plant can configure
  const guestNic = parts.attach !== undefined && line.capabilities().guestNetwork === true
  // refused before anything is made: an address with no domain network, or no guest, to put it on
  if (spec.network !== undefined && !guestNic) {
    const why = parts.attach === undefined ? `this plant gives its VMs no NIC on a domain network (${parts.networkless ?? 'no domain networks'})` : `the ${line.kind} line cannot set a guest's address`
    throw new ProductionFailedError(`the spec ${'address' in spec.network ? `sets network.address ${spec.network.address}` : 'asks for DHCP'}, but ${why}`)
  }
  try {
    const { plan, record } = await findGolden(parts, spec, signal)
    const network = parts.attach !== undefined ? await parts.attach(signal) : undefined
    progress?.({ step: 'clone', phase: 'start', detail: `image ${record.id.slice(0, 12)}` })
    const info = await line.clone(record.golden, vmid, { signal, ...(network !== undefined ? { network } : {}) })
    faults?.hit('after-clone')
    const resumed = await line.resume(vmid, { signal })
    faults?.hit('after-resume')
    await images.catalog.touch(record.id, clock.now())
    const cloningMs = clock.now() - started
    progress?.({ step: 'clone', phase: 'done', detail: `${vmid.slice(0, vmid.indexOf('.'))} is running` })
    // the address comes first, so that the spec's actions can use the client's LAN
    // without the step, the MAC the line gave the clone (a user-mode NIC) still goes in the classad
    let nic: GuestNic | undefined
    if (guestNic) {
      progress?.({ step: 'network', phase: 'start', detail: spec.network === undefined ? 'reading the NIC on the domain\'s network' : isDhcp(spec.network) ? 'asking the domain\'s LAN for a DHCP lease' : `setting address ${spec.network.address}` })
      nic = await configureGuestNetwork(line, vmid, spec.network, signal)
      progress?.({ step: 'network', phase: 'done', detail: `NIC ${nic.mac}${nic.address !== undefined ? ` at ${nic.address}` : ''}` })
    } else if (resumed.mac !== undefined) nic = { mac: resumed.mac }
    const actions = `${plan.remaining.length} action(s)`
    if (plan.remaining.length > 0) progress?.({ step: 'actions', phase: 'start', detail: `running ${actions}` })
    const configuration = await configure(line, clock, vmid, plan.remaining, spec.concurrent, signal, faults)
    if (plan.remaining.length > 0) progress?.({ step: 'actions', phase: 'done', detail: `ran ${actions}` })
    signal.throwIfAborted()
    return { image: record, cloned: plan.cloned.map((a) => a.id), ...configuration, cloningMs, configuringMs: clock.now() - started - cloningMs, handle: info.handle, ...(nic !== undefined ? { nic } : {}) }
  } catch (err) {
    // destroying a VM the line never made is not an error, and a clone aborted half-way may have left parts
    await line.destroy(vmid).catch(() => {})
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new ProductionFailedError(`production of ${vmid} was aborted`, { cause: err })
    if (err instanceof ProductionFailedError) throw err
    throw new ProductionFailedError(`production of ${vmid} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
