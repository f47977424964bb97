import { execFile } from 'node:child_process'
import type { AbortOptions } from '../index.js'
import { CommandFailedError } from './errors.js'

export interface ExecResult { stdout: string, stderr: string }

/**
 * Runs a short host command to completion. The signal kills it (SIGKILL), and the promise
 * rejects only once it has exited: a caller that cleans up after an abort never races a command
 * still writing its files.
 */
export async function exec (file: string, args: string[], options: AbortOptions & { cwd?: string } = {}): Promise<ExecResult> {
  options.signal?.throwIfAborted()
  const signal = options.signal
  return await new Promise((resolve, reject) => {
    const onAbort = (): void => { child.kill('SIGKILL') }
    // called when the process has exited and its output is read, also after a kill
    const child = execFile(file, args, { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      signal?.removeEventListener('abort', onAbort)
      if (signal?.aborted === true) reject(signal.reason)
      else if (err !== null) reject(new CommandFailedError(`${file} ${args.join(' ')}`, `${stderr}${err.message}`, { cause: err }))
      else resolve({ stdout, stderr })
    })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
