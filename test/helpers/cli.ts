import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { main } from '../../src/cli/main.js'
import type { Output } from '../../src/cli/output.js'
import { VMPLANT_BIN } from './processes.js'

/** Runs the vmplant command line in this process and returns its exit code and what it printed. */
export async function runCli (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  const out: string[] = []
  const err: string[] = []
  const output: Output = { print: (l) => out.push(l), error: (l) => err.push(l) }
  const code = await main(argv, output)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const exec = promisify(execFile)

/** The real vmplant binary as its own process (at most 60 s); resolves with its exit code and output. */
export async function vmplantProcess (...argv: string[]): Promise<{ code: number, out: string, err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [VMPLANT_BIN, ...argv], { timeout: 60_000 })
    return { code: 0, out: stdout.trim(), err: stderr.trim() }
  } catch (err: any) {
    return { code: typeof err.code === 'number' ? err.code : -1, out: String(err.stdout ?? '').trim(), err: String(err.stderr ?? '').trim() }
  }
}
