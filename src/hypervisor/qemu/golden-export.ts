import type { GoldenDescriptor } from '../../planner/index.js'
import { GOLDEN_FILES } from './golden.js'

/**
 * What a QEMU golden travels with: each artifact's file in the golden's folder (the names
 * `goldenImageOf` gives the warehouse, which the image protocol serves from that folder) and
 * whether a clone needs it. The build's console log travels for diagnosis only.
 */
export const QEMU_ARTIFACTS: Readonly<Record<string, { file: string, required: boolean }>> = {
  meta: { file: GOLDEN_FILES.meta, required: true },
  state: { file: GOLDEN_FILES.state, required: true },
  kernel: { file: GOLDEN_FILES.kernel, required: true },
  initrd: { file: GOLDEN_FILES.initrd, required: true },
  disk: { file: GOLDEN_FILES.disk, required: true },
  memory: { file: GOLDEN_FILES.memory, required: true },
  console: { file: GOLDEN_FILES.console, required: false }
}

/**
 * The order a peer fetches a QEMU golden's artifacts in: golden.json first, so that the importer
 * refuses a golden of another machine model or acceleration before its RAM file moves, then the
 * smallest first.
 */
export function transferOrder (descriptor: GoldenDescriptor): string[] {
  return [...descriptor.artifacts]
    .sort((a, b) => Number(b.name === 'meta') - Number(a.name === 'meta') || a.bytes - b.bytes || a.name.localeCompare(b.name))
    .map((a) => a.name)
}
