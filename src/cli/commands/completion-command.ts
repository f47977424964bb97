import { Argument, type Command } from 'commander'
import type { Output } from '../output.js'

/** the shells `completion` writes for (src/cli/completion.ts's COMPLETION_SHELLS, written out so --help loads none of it) */
const SHELLS = ['bash', 'zsh']

export function registerCompletionCommand (program: Command, out: Output): void {
  program.command('completion')
    .description('print a shell completion script made from these commands and options: `source <(vmplant completion bash)`, or the same with zsh after compinit')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action(async (shell: 'bash' | 'zsh') => {
      const { completionScript } = await import('../completion.js')
      out.print(completionScript(program, shell).trimEnd())
    })
}
