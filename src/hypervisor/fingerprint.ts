import { execFile } from 'node:child_process'
import type { AbortOptions } from './index.js'

export type VersionProbe = { found: true, version: string } | { found: false, detail: string }

/**
 * The first line a program prints for `args` (such as `--version`), or why there is none: not
 * installed (naming the Debian package), or it failed. Five seconds at most.
 */
export async function probeVersion (binary: string, args: string[], debianPackage: string, options: AbortOptions = {}): Promise<VersionProbe> {
  options.signal?.throwIfAborted()
  const signal = options.signal === undefined ? AbortSignal.timeout(5_000) : AbortSignal.any([options.signal, AbortSignal.timeout(5_000)])
  return await new Promise((resolve, reject) => {
    execFile(binary, args, { signal, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (options.signal?.aborted === true) { reject(options.signal.reason); return }
      const first = `${stdout}\n${stderr}`.split('\n').find((line) => line.trim() !== '')?.trim()
      if (err === null && first !== undefined) { resolve({ found: true, version: first }); return }
      const code = (err as NodeJS.ErrnoException | null)?.code
      if (code === 'ENOENT') resolve({ found: false, detail: `${binary} is not installed (Debian package ${debianPackage}; bash scripts/setup.sh installs it)` })
      else resolve({ found: false, detail: `${binary} ${args.join(' ')} failed: ${(err?.message ?? 'no output')} ${stderr}`.trim() })
    })
  })
}

/** Reads a string field of an opaque VM handle, or undefined when it is missing or not a string. */
export function handleString (handle: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = handle?.[key]
  return typeof value === 'string' ? value : undefined
}
