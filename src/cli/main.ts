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
import { registerStatusCommand } from './commands/status-command.js'
import { consoleOutput, type Output } from './output.js'

/**
 * Errors that mean bad input (exit code 2), by name: the classes live in layers (planner, daemon,
 * sim) that a command loads only when it runs, and main loads none of them, so that `--help` and
 * a client command stay quick. Each class sets `name` to its own (STYLE.md, errors).
 */
const BAD_INPUT = new Set(['UsageError', 'DomainExistsError', 'InvalidSpecError', 'ConfigError', 'ScenarioError'])
/** the codes of a shop's or plant's RemoteError that mean the request itself was bad */
const BAD_REQUEST_CODES = new Set(['InvalidSpecError', 'MalformedMessageError'])

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
  registerStatusCommand(program, out)
  const exitOverride = (command: Command): void => { command.exitOverride(); command.commands.forEach(exitOverride) }
  exitOverride(program)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err: any) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    // `logged`: the command wrote the error's line itself (a node's failed start, as a JSON log line)
    if (err?.logged !== true) out.error(`vmplant: ${err?.message ?? String(err)}`)
    return exitCodeOf(err)
  }
}

/** 2 for bad input (named in BAD_INPUT, or a remote error whose code says the request was bad), else 1. */
export function exitCodeOf (err: unknown): 1 | 2 {
  const { name, code } = (err ?? {}) as { name?: unknown, code?: unknown }
  if (typeof name === 'string' && BAD_INPUT.has(name)) return 2
  if (name === 'RemoteError' && typeof code === 'string' && BAD_REQUEST_CODES.has(code)) return 2
  return 1
}
