import '../polyfill.js'
import { Command, CommanderError } from 'commander'
import { registerClientCommands } from './commands/client-commands.js'
import { registerDomainCommands } from './commands/domain-commands.js'
import { registerNodeCommand } from './commands/node-command.js'
import { registerLocalCommands } from './commands/local-commands.js'
import { registerImageCommands } from './commands/image-commands.js'
import { registerSimCommand } from './commands/sim-command.js'
import { registerVnetCommands } from './commands/vnet-commands.js'
import { registerFederationCommands } from './commands/federation-commands.js'
import { consoleOutput, type Output } from './output.js'
import { UsageError } from './errors.js'
import { InvalidSpecError } from '../planner/index.js'
import { ConfigError } from '../daemon/errors.js'
import { RemoteError } from '../net/errors.js'
import { ScenarioError } from '../../sim/errors.js'

/** Runs the vmplant command line; resolves with the exit code (0 ok, 1 failed, 2 bad input). */
export async function main (argv: string[], out: Output = consoleOutput): Promise<number> {
  const program = new Command('vmplant')
    .description('vmplant: virtual machines on demand from a peer-to-peer federation of plants')
    .exitOverride()
    .configureOutput({ writeOut: (s) => { out.print(s.trimEnd()) }, writeErr: (s) => { out.error(s.trimEnd()) } })
    .showHelpAfterError('(run with --help for usage)')
  registerNodeCommand(program, out)
  registerLocalCommands(program, out)
  registerClientCommands(program, out)
  registerDomainCommands(program, out)
  registerImageCommands(program, out)
  registerSimCommand(program, out)
  registerVnetCommands(program, out)
  registerFederationCommands(program, out)
  const exitOverride = (command: Command): void => { command.exitOverride(); command.commands.forEach(exitOverride) }
  exitOverride(program)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err: any) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    out.error(`vmplant: ${err?.message ?? String(err)}`)
    if (err instanceof UsageError || err instanceof InvalidSpecError || err instanceof ConfigError || err instanceof ScenarioError) return 2
    if (err instanceof RemoteError && (err.code === InvalidSpecError.name || err.code === 'MalformedMessageError')) return 2
    return 1
  }
}
