import type { Command } from 'commander'
import { loadScenario } from '../../../sim/scenario.js'
import { runScenario, type SimProgress } from '../../../sim/run.js'
import { formatSummary } from '../../../sim/report.js'
import { UsageError } from '../errors.js'
import type { Output } from '../output.js'

function parseSeed (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed must be a whole number from 0 to 4294967295, not "${value}"`)
  return n
}

/** One line on a terminal, rewritten in place as requests are answered; nothing elsewhere. */
function progressLine (): { update: (p: SimProgress) => void, clear: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => {}, clear: () => {} }
  let shown = -1
  return {
    update: (p) => {
      const percent = Math.floor(100 * p.done / p.total)
      if (percent === shown) return
      shown = percent
      const width = 30
      const filled = Math.round(width * p.done / p.total)
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} requests, ${(p.virtualMs / 1000).toFixed(1)} virtual s`)
    },
    clear: () => { if (shown >= 0) process.stderr.write('\r\x1b[K') }
  }
}

export function registerSimCommand (program: Command, out: Output): void {
  program.command('sim')
    .description('run a scenario in the simulator: the real shop, broker and plant code on a virtual clock and an in-memory network; prints a summary')
    .argument('<scenario>', 'the scenario, a YAML file (see sim/README.md)')
    .option('--seed <n>', 'seed of every random choice (default: the scenario\'s seed)')
    .option('--out <dir>', 'write requests.csv (one row per request) and plants.csv (plant samples over time) into this folder')
    .action(async (file: string, options: { seed?: string, out?: string }) => {
      const seed = options.seed !== undefined ? parseSeed(options.seed) : undefined
      const scenario = await loadScenario(file)
      const progress = progressLine()
      let result
      try {
        result = await runScenario(scenario, { ...(seed !== undefined ? { seed } : {}), ...(options.out !== undefined ? { out: options.out } : {}), onProgress: progress.update })
      } finally {
        progress.clear()
      }
      out.print(formatSummary(result.summary).join('\n'))
      if (options.out !== undefined) out.print(`  wrote ${options.out}/requests.csv and ${options.out}/plants.csv`)
      if (result.summary.lost > 0) throw new Error(`${result.summary.lost} request(s) were never answered`)
    })
}
