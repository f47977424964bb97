import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import type { LineProgress, ProductionLine } from '../interface/index.js'
import { simLine } from '../hypervisor/sim/index.js'
import { qemuLine } from '../hypervisor/qemu/index.js'
import { umlLine } from '../hypervisor/uml/index.js'
import type { DriverConfig } from './config.js'

/** A plant's own folder on tmpfs for golden RAM files, so that two plants of one host never share one. */
export function defaultGoldenShmDir (dir: string): string {
  return `/dev/shm/vmplant-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}`
}

export interface LineHooks {
  /** sees the steps of a golden image's build (the QEMU line's; the others are quick) */
  onProgress?: (event: LineProgress) => void
}

/** Builds the production line a node's config asks for; `dir` is the node's folder for the line's files. */
export function createLine (config: DriverConfig, dir: string, hooks: LineHooks = {}): ProductionLine {
  switch (config.kind) {
    case 'sim': return simLine({ ...config, dir })
    case 'qemu': {
      const { kind: _kind, goldenDir, workDir, ...rest } = config
      return qemuLine({ ...rest, workDir: workDir ?? dir, goldenDir: goldenDir ?? defaultGoldenShmDir(dir), ...(hooks.onProgress !== undefined ? { onProgress: hooks.onProgress } : {}) })
    }
    case 'uml': return umlLine({ workDir: config.workDir ?? dir, goldenDir: config.goldenDir ?? join(dir, 'golden') })
    default: {
      const unknown: never = config
      throw new Error(`unknown production line ${String((unknown as { kind: string }).kind)}`)
    }
  }
}
