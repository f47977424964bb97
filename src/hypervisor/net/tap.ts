import type { AbortOptions } from '../../interface/index.js'
import { HostNetworkError } from './errors.js'
import { ip, isExistingLink, isMissingLink, MAX_IFNAME, noAddresses } from './ip.js'

function checkName (name: string, what: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || name.length > MAX_IFNAME) throw new HostNetworkError(`${what} ${JSON.stringify(name)} is not a link name of 1 to ${MAX_IFNAME} letters, digits, "_", "." or "-"`)
}

/**
 * Makes a persistent tap `tap` enslaved to `bridge` (which must exist), up, with no address of
 * the host's. A hypervisor then opens it by name. A tap left from an earlier try is replaced.
 */
export async function createTap (tap: string, bridge: string, options: AbortOptions = {}): Promise<void> {
  checkName(tap, 'tap')
  checkName(bridge, 'bridge')
  try {
    await ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap'], options)
  } catch (err) {
    if (!isExistingLink(err)) throw err
    await deleteTap(tap)
    await ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap'], options)
  }
  try {
    await noAddresses(tap, options)
    await ip(['link', 'set', 'dev', tap, 'master', bridge], options)
    await ip(['link', 'set', 'dev', tap, 'up'], options)
  } catch (err) {
    await deleteTap(tap).catch(() => {})
    throw err
  }
}

/** Removes a tap; a missing one is no error. */
export async function deleteTap (tap: string, options: AbortOptions = {}): Promise<void> {
  checkName(tap, 'tap')
  try {
    await ip(['link', 'del', 'dev', tap], options)
  } catch (err) {
    if (!isMissingLink(err)) throw err
  }
}

/** The bridge a link is enslaved to, or undefined. */
export async function masterOf (ifname: string, options: AbortOptions = {}): Promise<string | undefined> {
  const out = await ip(['-o', 'link', 'show', 'dev', ifname], options)
  return / master (\S+)/.exec(out)?.[1]
}
