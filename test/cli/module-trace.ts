import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's root folder (this file runs from dist/test/cli/). */
export const root = fileURLToPath(new URL('../../../', import.meta.url))
export const VMPLANT_BIN = join(root, 'bin', 'vmplant.js')

const MARK = 'vmplant-trace-load '

/**
 * Writes into `dir` a module that registers a loader hook naming every file the process loads on
 * stderr: Node's own evidence of what a command loaded, without timing anything. The hook runs on
 * its own thread, whose process.stderr is relayed by the main thread and loses what is still queued
 * when a command exits (as `--help` does at once on Node 24): it writes to fd 2 itself.
 */
export async function writeTracer (dir: string): Promise<string> {
  const hooks = join(dir, 'trace-hooks.mjs')
  const tracer = join(dir, 'trace.mjs')
  await writeFile(hooks, `import { writeSync } from 'node:fs'\nexport async function load (url, context, next) {\n  if (url.startsWith('file:')) writeSync(2, ${JSON.stringify(MARK)} + url + '\\n')\n  return next(url, context)\n}\n`)
  await writeFile(tracer, `import { register } from 'node:module'\nregister(${JSON.stringify(`file://${hooks}`)})\n`)
  return tracer
}

export interface TracedRun { code: number | null, out: string, err: string, loaded: string[] }

/** Runs `vmplant ...argv` in its own process under the tracer; `loaded`: files, relative to the package root. */
export async function runTraced (tracer: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<TracedRun> {
  const child = spawn(process.execPath, ['--import', tracer, VMPLANT_BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`vmplant ${argv.join(' ')} did not end in 60 s`)) }, 60_000)
    // 'close', not 'exit': the pipes may still hold output when the process has exited
    child.on('close', (c) => { clearTimeout(timer); resolve(c) })
  })
  const loaded: string[] = []
  const rest: string[] = []
  for (const line of err.split('\n')) {
    if (line.startsWith(MARK)) loaded.push(fileURLToPath(line.slice(MARK.length)).replace(root, ''))
    else rest.push(line)
  }
  return { code, out, err: rest.join('\n').trim(), loaded }
}
