import type { AbortOptions, Classad, HostNetworks, NetworkAllocation, NetworkAttachment, PlantStore, ProductionLine } from '../../interface/index.js'
import type { ActorContext } from '../runtime/index.js'

/**
 * What a plant's host-only networks are, decided once at start:
 * - `bridge`: a Linux bridge per domain, made on first use and removed with the domain's last VM;
 *   each clone's NIC is a tap on it;
 * - `none`: the plant may not make bridges (no CAP_NET_ADMIN) or its line cannot attach a NIC to
 *   one, so it offers networkless VMs only (the line's user-mode NIC, or none) and says so;
 * - `model`: no host networks were given (the simulator): a network is a record and a price.
 */
export type NetworkMode =
  | { kind: 'bridge', detail: string }
  | { kind: 'none', detail: string }
  | { kind: 'model' }

/**
 * Decides the mode and, with bridges, holds the host against the store: the bridge of every
 * recorded network is made (a host restarted under running records), a bridge of this plant
 * that no record names is removed (a plant killed before it committed). Runs in `init`.
 */
export async function startNetworks (parts: { line: ProductionLine, store: PlantStore, hostNetworks?: HostNetworks | undefined }, log: ActorContext<any>['log'], options: AbortOptions = {}): Promise<NetworkMode> {
  const { line, store, hostNetworks } = parts
  if (hostNetworks === undefined) return { kind: 'model' }
  if (line.capabilities().bridgeNic !== true) {
    const detail = `the ${line.kind} line cannot put a NIC on a bridge`
    log('domain networks are off: %s; offering networkless VMs only', detail)
    return { kind: 'none', detail }
  }
  const probe = await hostNetworks.probe(options)
  if (!probe.available) {
    log('domain networks are off: %s; offering networkless VMs only', probe.detail)
    return { kind: 'none', detail: probe.detail }
  }
  const recorded = new Set((await store.listNetworks(options)).map((n) => n.index))
  const present = new Set(await hostNetworks.list(options))
  for (const index of recorded) if (!present.has(index)) await hostNetworks.ensure(index, options)
  for (const index of present) {
    if (recorded.has(index)) continue
    await hostNetworks.remove(index, options)
    log('removed bridge %s: no network record names it', hostNetworks.bridgeName(index))
  }
  log('domain networks: %s', probe.detail)
  return { kind: 'bridge', detail: probe.detail }
}

/** The name a new network gets: its bridge, or the model's `hostonly-N`. */
export function networkNamer (mode: NetworkMode, hostNetworks: HostNetworks | undefined): (index: number) => string {
  if (mode.kind === 'bridge' && hostNetworks !== undefined) return (index) => hostNetworks.bridgeName(index)
  return (index) => `hostonly-${index}`
}

/** Whether an order makes or joins a host-only network on this plant. */
export function usesNetworks (mode: NetworkMode): boolean {
  return mode.kind !== 'none'
}

/** The classad's network: the domain's bridge, the model's record, or none with why. */
export function networkClassad (mode: NetworkMode, allocation: NetworkAllocation | undefined): Classad['network'] {
  if (mode.kind === 'none' || allocation === undefined) return { name: 'none', index: -1, kind: 'none', detail: mode.kind === 'none' ? mode.detail : 'no network' }
  if (mode.kind === 'bridge') return { name: allocation.name, index: allocation.index, kind: 'bridge' }
  return { name: allocation.name, index: allocation.index }
}

/**
 * The production's way to its NIC: the bridge is made (or found) first, so a clone never waits
 * on a bridge that is not there. Undefined when the plant has no bridges.
 */
export function attachmentFor (mode: NetworkMode, hostNetworks: HostNetworks | undefined, allocation: NetworkAllocation | undefined, vmid: string): ((signal: AbortSignal) => Promise<NetworkAttachment>) | undefined {
  if (mode.kind !== 'bridge' || hostNetworks === undefined || allocation === undefined) return undefined
  return async (signal) => ({ bridge: await hostNetworks.ensure(allocation.index, { signal }), tap: hostNetworks.tapName(vmid) })
}

/** Removes a released network's bridge; nothing to do without bridges. */
export async function releaseBridge (mode: NetworkMode, hostNetworks: HostNetworks | undefined, index: number, options: AbortOptions = {}): Promise<void> {
  if (mode.kind === 'bridge' && hostNetworks !== undefined) await hostNetworks.remove(index, options)
}
