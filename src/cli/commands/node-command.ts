import type { Command } from 'commander'
import type { Output } from '../output.js'

export function registerNodeCommand (program: Command, out: Output): void {
  program.command('node')
    .description('run one vmplant node (shop, broker and/or plant) from a YAML config, until SIGTERM')
    .option('--config <file>', 'the node config (see config/*.yaml and the README for every field)')
    .option('--check-config <file>', 'validate a node config, print what it sets up, and exit (0: valid; 2: an error that names the file and field)')
    .option('--log-format <format>', "json (one object a line with the node's peer id, for journald) or text; overrides the config's log.format (default: text on a terminal, else json)")
    .action(async (options: { config?: string, checkConfig?: string, logFormat?: string }) => {
      // the whole node (libp2p, level, the lines) loads only now
      const { runNode } = await import('../actions/node-action.js')
      await runNode(options, out)
    })
}
