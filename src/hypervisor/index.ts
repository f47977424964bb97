import type { Hardware, HostParams } from '../planner/index.js'

export interface AbortOptions { signal?: AbortSignal }

export type VmState = 'running' | 'paused' | 'stopped' | 'crashed'

/** A checkpointed VM that clones start from. Its artifacts are files under `dir`. */
export interface GoldenImage {
  /** content hash of the descriptor */
  id: string
  /** the production line that made it and can clone it */
  line: string
  hardware: Hardware
  /** ids of the actions applied to it, in the order they ran */
  applied: string[]
  /** folder that holds the artifacts */
  dir: string
  /** artifact name (disk, memory, device-state, ...) to file name inside `dir` */
  artifacts: Record<string, string>
  createdAt: number
}

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

/** What a production line knows of one VM right now. */
export interface VmInfo {
  vmid: string
  state: VmState
  goldenId: string
  /** the hypervisor process, where there is one */
  pid?: number
  /** resident memory of the VM's process(es) in KiB, where known */
  rssKB?: number
}

/**
 * A production line clones, resumes, configures and destroys VMs of one hypervisor.
 * The plant drives it; `sim` takes configurable latencies, `qemu` and `uml` run real guests.
 */
export interface ProductionLine {
  /** 'sim' | 'qemu' | 'uml' */
  readonly kind: string
  start(options?: AbortOptions): Promise<void>
  /** stops the line; VMs that run in their own processes keep running unless `destroyAll` */
  stop(options?: AbortOptions & { destroyAll?: boolean }): Promise<void>
  /** how much memory a new VM of `memoryMB` costs the host, in MB */
  memoryCostMB(memoryMB: number): number
  /** host memory the line holds beyond its VMs (a warm pool's waiting processes), in MB */
  reservedMB?(): number
  /** why this line cannot make a VM of this hardware, or undefined when it can; a plant does not bid then */
  unsupported?(hardware: Hardware): string | undefined
  /** boots a VM for the hardware, runs the actions, checkpoints it */
  prepareGolden(request: GoldenRequest, options?: AbortOptions): Promise<GoldenImage>
  /** makes a copy-on-write clone of the golden image, not yet running */
  clone(golden: GoldenImage, vmid: string, options?: AbortOptions): Promise<VmInfo>
  /** starts (or resumes from the checkpoint) a clone */
  resume(vmid: string, options?: AbortOptions): Promise<VmInfo>
  runAction(vmid: string, action: GuestAction, options?: AbortOptions): Promise<ActionResult>
  /** does a host action to the VM from outside (attach an ISO image, a NIC); lines without it refuse host actions */
  hostAction?(vmid: string, params: HostParams, options?: AbortOptions): Promise<void>
  /** throws VmNotFoundError for an unknown VM */
  inspect(vmid: string, options?: AbortOptions): Promise<VmInfo>
  /** stops the VM and removes its files; a VM that is already gone is not an error */
  destroy(vmid: string, options?: AbortOptions): Promise<void>
  list(options?: AbortOptions): Promise<VmInfo[]>
}

export * from './errors.js'
