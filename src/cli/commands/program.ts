import { Command, CommanderError } from 'commander'
import { registerClientCommands } from './client-commands.js'
import { registerDomainCommands } from './domain-commands.js'
import { registerNodeCommand } from './node-command.js'
import { registerLocalCommands } from './local-commands.js'
import { registerImageCommands } from './image-commands.js'
import { registerSimCommand } from './sim-command.js'
import { registerVnetCommands } from './vnet-commands.js'
import { registerFederationCommands } from './federation-commands.js'
import { registerStatusCommand } from './status-command.js'
import { registerCompletionCommand } from './completion-command.js'
import { applyProfile, profileHelp } from './profile-options.js'
import { exitCodeOf, EXIT_CODES_HELP } from '../exit-codes.js'
import { packageVersion } from '../../paths.js'
import type { Output } from '../output.js'

/**
 * The vmplant program: every command and its options, parsed with commander; resolves with the
 * exit code (src/cli/exit-codes.ts). src/cli/main.ts loads it, bundled with commander when the
 * bundle is fresh (scripts/bundle-cli.mjs).
 */
export async function run (argv: string[], out: Output): Promise<number> {
  const program = new Command('vmplant')
    .description('vmplant: virtual machines on demand from a peer-to-peer federation of plants')
    .exitOverride()
    .configureOutput({ writeOut: (s) => { out.print(s.trimEnd()) }, writeErr: (s) => { out.error(s.trimEnd()) } })
    .showHelpAfterError('(run with --help for usage)')
    .version(packageVersion(), '-V, --version', 'print the version of vmplant')
    .addHelpText('after', EXIT_CODES_HELP + '\n' + profileHelp())
    .hook('preAction', async (_program, action) => { await applyProfile(action) })
  registerNodeCommand(program, out)
  registerLocalCommands(program, out)
  registerClientCommands(program, out)
  registerDomainCommands(program, out)
  registerImageCommands(program, out)
  registerSimCommand(program, out)
  registerVnetCommands(program, out)
  registerFederationCommands(program, out)
  registerStatusCommand(program, out)
  registerCompletionCommand(program, out)
  const exitOverride = (command: Command): void => { command.exitOverride(); command.commands.forEach(exitOverride) }
  exitOverride(program)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err: unknown) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    // `logged`: the command wrote the error's line itself (a node's failed start, as a JSON log line)
    if ((err as { logged?: unknown } | null)?.logged !== true) {
      // an error of several lines (every problem of a spec or config) is said a line at a time
      for (const line of (err instanceof Error ? err.message : String(err)).split('\n')) out.error(line === '' ? '' : `vmplant: ${line}`)
    }
    return exitCodeOf(err)
  }
}
