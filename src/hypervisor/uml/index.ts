import type { AbortOptions, ProductionLine } from '../index.js'
import { createUmlLineInit, type UmlLineInit } from './init.js'
import { UmlLine } from './line.js'

export { UML_LINE_DEFAULTS, createUmlLineInit, validateUmlLineInit, defaultUmlWorkDir, defaultUmlGoldenDir, type UmlLineInit } from './init.js'
export { ensureBaseImage, type BaseImage } from './rootfs.js'
export * from './errors.js'

/** The UML line, with what it offers beyond ProductionLine. */
export interface UmlProductionLine extends ProductionLine {
  readonly kind: 'uml'
  readonly init: UmlLineInit
  /** the umid on the command lines of the VM's host processes (`pgrep -f <umid>`); a hash, since vmids are too long for UML */
  umid(vmid: string): string
  /** resolves when the VM's guest agent answers */
  ping(vmid: string, options?: AbortOptions & { timeoutMs?: number }): Promise<void>
}

/**
 * A production line on user-mode Linux (Debian's `linux.uml`): golden images are ext4 root file
 * systems, clones are COW files over them, booted rather than resumed. See docs/uml-line.md.
 * Fields left out take UML_LINE_DEFAULTS.
 */
export function umlLine (init: Partial<UmlLineInit> = {}): UmlProductionLine {
  return new UmlLine(createUmlLineInit(init))
}
