import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import type { ProductionLine } from './index.js'
import { simLine } from './sim/index.js'
import { qemuLine, type AccelChoice } from './qemu/index.js'
import { umlLine } from './uml/index.js'

/**
 * Which production line a node runs, with its options: what a node config's `plant.driver` holds
 * once checked (the daemon's schema produces exactly this; the hypervisor layer does not import it).
 */
export type LineConfig =
  | { kind: 'sim', cloneMs?: number | undefined, resumeMs?: number | undefined, actionMs?: number | undefined, goldenMs?: number | undefined }
  | {
    kind: 'qemu'
    poolSize?: number | undefined
    accel?: AccelChoice | undefined
    tbSizeMB?: number | undefined
    diskMB?: number | undefined
    overheadMB?: number | undefined
    goldenDir?: string | undefined
    workDir?: string | undefined
  }
  | { kind: 'uml', workDir?: string | undefined, goldenDir?: string | undefined }

/** A plant's own folder on tmpfs for golden RAM files, so that two plants of one host never share one. */
export function defaultGoldenShmDir (dir: string): string {
  return `/dev/shm/vmplant-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}`
}

/**
 * Builds the production line a node's config asks for; `dir` is the node's folder for the line's
 * files. A sim line keeps its VMs there too, so that they outlive a plant restart like real VMs.
 */
export function createLine (config: LineConfig, dir: string): ProductionLine {
  switch (config.kind) {
    case 'sim': return simLine({ ...config, dir })
    case 'qemu': {
      const { kind: _kind, goldenDir, workDir, ...rest } = config
      return qemuLine({ ...rest, workDir: workDir ?? dir, goldenDir: goldenDir ?? defaultGoldenShmDir(dir) })
    }
    case 'uml': return umlLine({ workDir: config.workDir ?? dir, goldenDir: config.goldenDir ?? join(dir, 'golden') })
    default: {
      const unknown: never = config
      throw new Error(`unknown production line ${String((unknown as { kind: string }).kind)}`)
    }
  }
}
