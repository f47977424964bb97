import { execFile } from 'node:child_process'
import type { AbortOptions } from '../index.js'
import { CommandFailedError } from './errors.js'

export interface ExecResult { stdout: string, stderr: string }

/** Runs a short host command to completion; the signal kills it. */
export async function exec (file: string, args: string[], options: AbortOptions & { cwd?: string } = {}): Promise<ExecResult> {
  options.signal?.throwIfAborted()
  return await new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, signal: options.signal, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) {
        if (options.signal?.aborted === true) reject(options.signal.reason)
        else reject(new CommandFailedError(`${file} ${args.join(' ')}`, `${stderr}${err.message}`, { cause: err }))
        return
      }
      resolve({ stdout, stderr })
    })
  })
}
