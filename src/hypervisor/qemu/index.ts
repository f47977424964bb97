import type { AbortOptions, ProductionLine } from '../index.js'
import { createQemuLineInit, type QemuLineInit } from './init.js'
import type { BinaryActionResult } from '../guest/index.js'
import type { GoldenImage, GuestAction, VmInfo } from '../index.js'
import { QemuLine, type QemuCloneOptions } from './line.js'

export { QEMU_LINE_DEFAULTS, createQemuLineInit, validateQemuLineInit, defaultWorkDir, type QemuLineInit, type AccelChoice } from './init.js'
export { QmpClient, type QmpEvent } from './qmp.js'
export { resolveAccel } from './accel.js'
export { qemuCapabilities, MIN_MEMORY_MB } from './capabilities.js'
export { qemuGoldenImporter, type QemuGoldenImporter } from './golden-import.js'
export { QEMU_ARTIFACTS } from './golden-export.js'
export * from './errors.js'
export type { NicBackend } from './args.js'
export type { QemuCloneOptions } from './line.js'
export type { BinaryActionResult } from '../guest/index.js'

/** The QEMU line, with what it offers beyond ProductionLine. */
export interface QemuProductionLine extends ProductionLine {
  readonly kind: 'qemu'
  readonly init: QemuLineInit
  /** resolves when the VM's guest agent answers */
  ping(vmid: string, options?: AbortOptions & { timeoutMs?: number }): Promise<void>
  /** a clone whose NIC is on the backend `options.nic` (default user-mode) */
  clone(golden: GoldenImage, vmid: string, options?: QemuCloneOptions): Promise<VmInfo>
  /** an action's output byte for byte */
  runBinary(vmid: string, action: GuestAction, options?: AbortOptions): Promise<BinaryActionResult>
}

/**
 * A production line on QEMU: golden images checkpointed with their RAM in a tmpfs file, clones
 * that map it copy-on-write and load only the device state. Fields left out take QEMU_LINE_DEFAULTS.
 */
export function qemuLine (init: Partial<QemuLineInit> = {}): QemuProductionLine {
  return new QemuLine(createQemuLineInit(init))
}
