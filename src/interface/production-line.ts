import type { AbortOptions } from './abort.js'
import type { Hardware, HostActionKind, HostParams } from './hardware.js'
import type { NetworkAttachment } from './host-networks.js'
import type { GoldenImage, GoldenImporter } from './golden.js'

export type VmState = 'running' | 'paused' | 'stopped' | 'crashed'

/**
 * A step of a line's long work, for a person watching: a first golden image on a fresh host
 * downloads and builds the guest image, boots it, runs the actions and checkpoints it (tens of
 * seconds under TCG). Each step is reported when it starts and when it is done.
 */
export interface LineProgress {
  step: 'download' | 'build' | 'boot' | 'actions' | 'checkpoint' | 'image-fetch'
  /** 'progress': the step goes on, `fraction` done */
  phase: 'start' | 'progress' | 'done'
  /** what the step works on, for people: a package, an image id, an action count */
  detail: string
  /** 0..1 when the share done is known (bytes fetched) */
  fraction?: number
}

/** A golden build's options: the caller may watch its steps, as well as whoever watches the whole line. */
export interface GoldenOptions extends AbortOptions { onProgress?: ((event: LineProgress) => void) | undefined }

export interface GoldenRequest {
  hardware: Hardware
  /** actions to run before the checkpoint, in order */
  actions: GuestAction[]
}

/** A script to run inside the guest. */
export interface GuestAction {
  id: string
  run: string
  /** @default 60000 */
  timeoutMs?: number
}

export interface ActionResult {
  exitCode: number
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
}

/**
 * What a driver needs to find one of its VMs again after the plant restarts (process id, folder,
 * socket paths). Opaque to the plant, which keeps it in the VM's record in its store.
 */
export type VmHandle = Record<string, string | number | boolean | null>

/** What a production line knows of one VM right now. */
export interface VmInfo {
  vmid: string
  state: VmState
  goldenId: string
  /** the hypervisor process, where there is one */
  pid?: number
  /** resident memory of the VM's process(es) in KiB, where known */
  rssKB?: number
  /** the MAC of the VM's NIC, where it has one */
  mac?: string
  /** for `recover` after a restart */
  handle: VmHandle
}

/** What a line can do, stated once so that the plant never probes for optional methods. */
export interface LineCapabilities {
  /** host actions it performs; a spec with another one is refused */
  hostActions: HostActionKind[]
  /** whether a clone gets a NIC on a host network */
  networks: boolean
  /** whether `clone` puts the NIC on the bridge its `network` option names (a tap); absent: it does not */
  bridgeNic?: boolean
  /**
   * whether the guest's NIC on that bridge can be configured by `runAction` with busybox `ip`: the
   * plant then sets the spec's `network` address and reads the MAC for the classad; absent: it cannot
   */
  guestNetwork?: boolean
  /** the least guest memory it can boot, in MB */
  minMemoryMB: number
  /** the guest operating systems and architectures it makes; absent: any (the sim line) */
  os?: string[]
  arch?: string[]
  /** whether VMs outlive the line (own processes) and are re-attached by `recover` after a restart */
  liveReattach: boolean
  /** whether it takes fetched golden images into its own storage: then `goldenImporter()` hands out its importer; absent: it does not */
  goldenImport?: boolean
}

/** What the line found on this host at start: the hypervisor's version and how it runs. */
export interface LineFingerprint {
  kind: string
  /** e.g. "QEMU emulator version 7.2.x" */
  version: string
  /** e.g. 'tcg', 'kvm', 'uml', 'none' */
  acceleration: string
  /** a line that cannot run here says why; the plant then refuses to start */
  healthy: boolean
  detail: string
}

export interface CloneOptions extends AbortOptions {
  /** the domain network the clone's NIC joins; absent: the line's default (a user-mode NIC, or none) */
  network?: NetworkAttachment
}

/**
 * A production line clones, resumes, configures and destroys VMs of one hypervisor.
 * The plant drives it; `sim` takes configurable latencies, `qemu` and `uml` run real guests.
 * Every driver passes the one conformance suite in test/hypervisor/conformance.ts.
 */
export interface ProductionLine {
  /** 'sim' | 'qemu' | 'uml' */
  readonly kind: string
  start(options?: AbortOptions): Promise<void>
  /** stops the line; VMs that run in their own processes keep running unless `destroyAll` */
  stop(options?: AbortOptions & { destroyAll?: boolean }): Promise<void>
  capabilities(): LineCapabilities
  /** the line's importer of fetched goldens, when `capabilities().goldenImport` says it has one */
  goldenImporter?(): GoldenImporter
  fingerprint(options?: AbortOptions): Promise<LineFingerprint>
  /** how much memory a new VM of `memoryMB` costs the host, in MB */
  memoryCostMB(memoryMB: number): number
  /** host memory the line holds beyond its VMs (a warm pool's waiting processes), in MB; 0 for none */
  reservedMB(): number
  /** boots a VM for the hardware, runs the actions, checkpoints it; a line that reports its steps also tells `onProgress` */
  prepareGolden(request: GoldenRequest, options?: GoldenOptions): Promise<GoldenImage>
  /** gets ready to clone these images fast (fills a warm pool); a line without a pool does nothing */
  warm(goldens: GoldenImage[], options?: AbortOptions): Promise<void>
  /**
   * makes a copy-on-write clone of the golden image, not yet running; an abort leaves nothing behind.
   * With `network` (only when `capabilities().bridgeNic`), the clone's NIC is a tap on that bridge,
   * made by the line and removed by `destroy`.
   */
  clone(golden: GoldenImage, vmid: string, options?: CloneOptions): Promise<VmInfo>
  /** starts (or resumes from the checkpoint) a clone */
  resume(vmid: string, options?: AbortOptions): Promise<VmInfo>
  runAction(vmid: string, action: GuestAction, options?: AbortOptions): Promise<ActionResult>
  /** does a host action to the VM from outside; throws UnsupportedHardwareError for one not in `capabilities().hostActions` */
  hostAction(vmid: string, params: HostParams, options?: AbortOptions): Promise<void>
  /** re-attaches a VM from the handle its record keeps; throws VmNotFoundError when it is gone */
  recover(vmid: string, handle: VmHandle, options?: AbortOptions): Promise<VmInfo>
  /** throws VmNotFoundError for an unknown VM */
  inspect(vmid: string, options?: AbortOptions): Promise<VmInfo>
  /** stops the VM and removes its files; a VM that is already gone is not an error */
  destroy(vmid: string, options?: AbortOptions): Promise<void>
  /** every VM the line holds, including ones it found on the host at start that no record may know */
  list(options?: AbortOptions): Promise<VmInfo[]>
}

/** Why a line with these capabilities cannot make this hardware, or undefined when it can. */
export function hardwareProblem (caps: Pick<LineCapabilities, 'arch' | 'os' | 'minMemoryMB'>, kind: string, hardware: Hardware): string | undefined {
  if (caps.arch !== undefined && !caps.arch.includes(hardware.arch)) return `the ${kind} line runs ${caps.arch.join(', ')} guests, not ${hardware.arch}`
  if (caps.os !== undefined && !caps.os.includes(hardware.os)) return `the ${kind} line's guest image is ${caps.os.join(', ')}, not ${hardware.os}`
  if (hardware.memoryMB < caps.minMemoryMB) return `the guest needs at least ${caps.minMemoryMB} MB, not ${hardware.memoryMB}`
  return undefined
}
