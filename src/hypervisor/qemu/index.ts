import type { AbortOptions, ProductionLine } from '../index.js'
import { createQemuLineInit, type QemuLineInit } from './init.js'
import { QemuLine } from './line.js'

export { QEMU_LINE_DEFAULTS, createQemuLineInit, validateQemuLineInit, defaultWorkDir, type QemuLineInit, type AccelChoice } from './init.js'
export { QmpClient, type QmpEvent } from './qmp.js'
export { resolveAccel } from './accel.js'
export { qemuCapabilities, MIN_MEMORY_MB } from './capabilities.js'
export * from './errors.js'

/** The QEMU line, with what it offers beyond ProductionLine. */
export interface QemuProductionLine extends ProductionLine {
  readonly kind: 'qemu'
  readonly init: QemuLineInit
  /** resolves when the VM's guest agent answers */
  ping(vmid: string, options?: AbortOptions & { timeoutMs?: number }): Promise<void>
}

/**
 * A production line on QEMU: golden images checkpointed with their RAM in a tmpfs file, clones
 * that map it copy-on-write and load only the device state. Fields left out take QEMU_LINE_DEFAULTS.
 */
export function qemuLine (init: Partial<QemuLineInit> = {}): QemuProductionLine {
  return new QemuLine(createQemuLineInit(init))
}
