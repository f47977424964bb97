import { createHash } from 'node:crypto'
import type { AbortOptions, HostNetworkProbe, HostNetworks } from '../../interface/index.js'
import { HostNetworkError, InvalidHostNetworksInitError } from './errors.js'
import { ip, isExistingLink, isMissingLink, linksWithPrefix, MAX_IFNAME, noAddresses } from './ip.js'

export interface HostNetworksInit {
  /**
   * Starts the name of every link this plant makes: bridges `<prefix>b<index>`, taps
   * `<prefix>t<hash of vmid>`, the probe's `<prefix>p`. Unique per plant on a host, so two plants
   * (or test runs) never touch each other's links. 2 to 8 lower-case letters and digits.
   */
  prefix: string
  /** the highest network index, for the name length check; @default 4095 */
  maxIndex?: number
}

/** the tap's vmid hash: 15 - 8 (longest prefix) - 1 ("t") = 6 hex digits */
const TAP_HASH = 6

export function validateHostNetworksInit (init: HostNetworksInit): Required<HostNetworksInit> {
  const full = { maxIndex: 4095, ...init }
  if (!/^[a-z][a-z0-9]{1,7}$/.test(full.prefix)) throw new InvalidHostNetworksInitError('prefix', `must be 2 to 8 lower-case letters and digits, starting with a letter, not ${JSON.stringify(full.prefix)}`)
  if (!Number.isInteger(full.maxIndex) || full.maxIndex < 0) throw new InvalidHostNetworksInitError('maxIndex', `must be a whole number >= 0, not ${full.maxIndex}`)
  if (`${full.prefix}b${full.maxIndex}`.length > MAX_IFNAME) throw new InvalidHostNetworksInitError('prefix', `with networks up to ${full.maxIndex}, ${full.prefix}b${full.maxIndex} is longer than ${MAX_IFNAME} characters`)
  return full
}

/** A prefix for the plant whose data lives in `dataDir`: `vp` + 6 hex of its hash. */
export function prefixFor (dataDir: string): string {
  return `vp${createHash('sha256').update(dataDir).digest('hex').slice(0, 6)}`
}

class LinuxHostNetworks implements HostNetworks {
  private readonly init: Required<HostNetworksInit>
  /** changes of one bridge run in the order they were asked for, so a remove never overtakes a later ensure */
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor (init: HostNetworksInit) {
    this.init = validateHostNetworksInit(init)
  }

  bridgeName (index: number): string {
    if (!Number.isInteger(index) || index < 0 || index > this.init.maxIndex) throw new RangeError(`network index must be 0..${this.init.maxIndex}, not ${index}`)
    return `${this.init.prefix}b${index}`
  }

  tapName (vmid: string): string {
    return `${this.init.prefix}t${createHash('sha256').update(vmid).digest('hex').slice(0, TAP_HASH)}`
  }

  async probe (options: AbortOptions = {}): Promise<HostNetworkProbe> {
    options.signal?.throwIfAborted()
    const name = `${this.init.prefix}p`
    await ip(['link', 'del', 'dev', name], options).catch(() => {})
    try {
      await ip(['link', 'add', 'name', name, 'type', 'bridge'], options)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      if (/not permitted|permission/i.test(why)) return { available: false, detail: `no CAP_NET_ADMIN (not root): cannot create a bridge (${why})` }
      return { available: false, detail: `cannot create a bridge: ${why}` }
    }
    await ip(['link', 'del', 'dev', name], options)
    return { available: true, detail: `Linux bridges ${this.init.prefix}b<N> with taps` }
  }

  async ensure (index: number, options: AbortOptions = {}): Promise<string> {
    const bridge = this.bridgeName(index)
    return await this.serial(bridge, async () => {
      options.signal?.throwIfAborted()
      try {
        await ip(['link', 'add', 'name', bridge, 'type', 'bridge'], options)
      } catch (err) {
        if (!isExistingLink(err)) throw err
      }
      await noAddresses(bridge, options)
      await ip(['link', 'set', 'dev', bridge, 'up'], options)
      return bridge
    })
  }

  async remove (index: number, options: AbortOptions = {}): Promise<void> {
    const bridge = this.bridgeName(index)
    await this.serial(bridge, async () => {
      options.signal?.throwIfAborted()
      try {
        await ip(['link', 'del', 'dev', bridge], options)
      } catch (err) {
        if (!isMissingLink(err)) throw err
      }
    })
  }

  async list (options: AbortOptions = {}): Promise<number[]> {
    const pattern = new RegExp(`^${this.init.prefix}b(\\d+)$`)
    return (await linksWithPrefix(this.init.prefix, { ...options, type: 'bridge' }))
      .map((name) => pattern.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
  }

  private async serial<T> (key: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(key) ?? Promise.resolve()
    const next = before.catch(() => {}).then(work)
    this.queues.set(key, next)
    try {
      return await next
    } finally {
      if (this.queues.get(key) === next) this.queues.delete(key)
    }
  }
}

/** The host's side of a plant's domain networks: Linux bridges made and removed with `ip`. */
export function hostNetworks (init: HostNetworksInit): HostNetworks {
  return new LinuxHostNetworks(init)
}

export { HostNetworkError }
