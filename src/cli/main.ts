import { loadBundled } from './bundled.js'
import { consoleOutput, type Output } from './output.js'

export { exitCodeOf, EXIT_CODES, BUSY_ERROR_NAME, BUSY_MESSAGE_PREFIX, type ExitCode } from './exit-codes.js'

type Program = typeof import('./commands/program.js')

/**
 * Runs the vmplant command line; resolves with the exit code (0 ok, 1 failed, 2 bad input, 75
 * busy). The program (commander and the command files, which load their implementations only
 * when they run) comes from one bundled file with V8's code cache when that is fresh: loading
 * commander and ~20 modules one by one was most of `--help`'s time beyond node's own start.
 */
export async function main (argv: string[], out: Output = consoleOutput): Promise<number> {
  const program = await loadBundled('dist/src/cli/commands/program.bundle.cjs', async (): Promise<Program> => await import('./commands/program.js'))
  return await program.run(argv, out)
}
