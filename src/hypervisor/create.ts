import type { ProductionLine } from './index.js'
import { simLine } from './sim/index.js'
import type { DriverConfig } from '../daemon/config.js'

/** Builds the production line a node's config asks for; `dir` is the node's folder for the line's files. */
export function createLine (config: DriverConfig, dir: string): ProductionLine {
  switch (config.kind) {
    case 'sim': return simLine({ ...config, dir })
    default: {
      const unknown: never = config.kind
      throw new Error(`unknown production line ${String(unknown)}`)
    }
  }
}
