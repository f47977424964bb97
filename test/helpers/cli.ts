import { main } from '../../src/cli/main.js'
import type { Output } from '../../src/cli/output.js'

/** Runs the vmplant command line in this process and returns its exit code and what it printed. */
export async function runCli (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const output: Output = { print: (l) => out.push(l), error: (l) => err.push(l) }
  const code = await main(argv, output)
  return { code, out: out.join('\n'), err: err.join('\n') }
}
