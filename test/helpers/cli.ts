import { execFile, spawn } from 'node:child_process'
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
  } catch (err: unknown) {
    return failedRun(err)
  }
}

/** what execFile's error says of a child that failed: its exit code (-1 when it had none) and output */
function failedRun (err: unknown): { code: number, out: string, err: string } {
  const failed = err as { code?: unknown, stdout?: unknown, stderr?: unknown }
  return { code: typeof failed.code === 'number' ? failed.code : -1, out: String(failed.stdout ?? '').trim(), err: String(failed.stderr ?? '').trim() }
}

/**
 * The real vmplant binary with `env` added to this process's environment and `input` on its
 * standard input (at most 60 s); resolves with its exit code and output.
 */
export async function vmplantWith (init: { env?: NodeJS.ProcessEnv, input?: string }, ...argv: string[]): Promise<{ code: number | null, out: string, err: string }> {
  const child = spawn(process.execPath, [VMPLANT_BIN, ...argv], { env: { ...process.env, ...init.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  child.stdin.end(init.input ?? '')
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`vmplant ${argv.join(' ')} did not end in 60 s`)) }, 60_000)
    child.on('close', (c) => { clearTimeout(timer); resolve(c) })
  })
  return { code, out: out.trim(), err: err.trim() }
}

/** A bash command line (`bash -c`, at most 60 s) with `env` added; its exit code and output. */
export async function bash (script: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number, out: string, err: string }> {
  try {
    const { stdout, stderr } = await exec('bash', ['-c', script], { timeout: 60_000, env: { ...process.env, ...env } })
    return { code: 0, out: stdout.trim(), err: stderr.trim() }
  } catch (err: unknown) {
    return failedRun(err)
  }
}
