import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { errorCode, errorMessage, errorStderr, type AbortOptions } from '../../interface/index.js'
import { HostNetworkError } from './errors.js'

const run = promisify(execFile)

/** Linux's IFNAMSIZ less the terminating zero. */
export const MAX_IFNAME = 15

/** Runs `ip ARGS` (iproute2) and returns its stdout; a failure names the command and what `ip` said. */
export async function ip (args: string[], options: AbortOptions & { binary?: string } = {}): Promise<string> {
  options.signal?.throwIfAborted()
  try {
    return (await run(options.binary ?? 'ip', args, { encoding: 'utf8', ...(options.signal !== undefined ? { signal: options.signal } : {}) })).stdout
  } catch (err: unknown) {
    if (options.signal?.aborted === true) throw options.signal.reason
    if (errorCode(err) === 'ENOENT') throw new HostNetworkError(`${options.binary ?? 'ip'} is not installed (Debian package iproute2)`, { cause: err })
    throw new HostNetworkError(`ip ${args.join(' ')} failed: ${(errorStderr(err) ?? errorMessage(err)).trim()}`, { cause: err })
  }
}

/** Whether the failure says the link is not there ("Cannot find device", "does not exist"). */
export function isMissingLink (err: unknown): boolean {
  return err instanceof HostNetworkError && /Cannot find device|does not exist|No such device/i.test(err.message)
}

/** Whether the failure says the link already exists (`ip tuntap add` says "busy"). */
export function isExistingLink (err: unknown): boolean {
  return err instanceof HostNetworkError && /File exists|Device or resource busy/i.test(err.message)
}

/** Names of the host's links that start with `prefix`. */
export async function linksWithPrefix (prefix: string, options: AbortOptions & { type?: string } = {}): Promise<string[]> {
  const out = await ip(['-o', 'link', 'show', ...(options.type !== undefined ? ['type', options.type] : [])], options)
  return out.split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name.startsWith(prefix))
}

/** No IPv6 link-local address either: the host keeps no address of its own on a domain's links. */
export async function noAddresses (ifname: string, options: AbortOptions = {}): Promise<void> {
  await ip(['link', 'set', 'dev', ifname, 'addrgenmode', 'none'], options)
}
