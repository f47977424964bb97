import type { Command } from 'commander'
import type { Output } from '../output.js'

/**
 * sim/policy.ts's POLICY_NAMES, written out so that `--help` need not load the simulator (and
 * zod); test/cli/lazy-loading.spec.ts checks that the two lists agree.
 */
export const POLICY_NAMES_IN_HELP = ['paper', 'memory', 'warm', 'random', 'd-choices', 'choices:<d>', 'exhaustive'] as const

export function registerSimCommand (program: Command, out: Output): void {
  program.command('sim')
    .description('run a scenario in the simulator: the real shop, broker and plant code on a virtual clock and an in-memory network; prints a summary')
    .argument('<scenario>', 'the scenario, a YAML file (see sim/README.md)')
    .option('--seed <n>', 'seed of every random choice (default: the scenario\'s seed)')
    .option('--out <dir>', 'write requests.csv (one row per request), plants.csv (plant samples over time) and SVG plots into this folder')
    .option('--policy <policies>', `run once per policy, comma-separated (${POLICY_NAMES_IN_HELP.join(', ')}): a cost model overrides every plant's cost.model; choices:<d> is the paper's cost with the shop calling d random bidders; exhaustive, the paper's cost with every plant asked, always runs as the baseline of decision quality; with --out, each run goes to DIR/<policy>/ and the comparison to DIR`)
    .action(async (file: string, options: { seed?: string, out?: string, policy?: string }) => {
      // the simulator, the actors and the planner load only now
      const { runSim } = await import('../actions/sim-action.js')
      await runSim(file, options, out)
    })
}
