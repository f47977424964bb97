import { domainIdOf, VmNotFoundError, type Classad, type DomainRef, type HostNetworks, type PlantStore, type ProductionLine } from '../../interface/index.js'
import { settle, type PlantMessage } from './messages.js'
import { domainInUse, orderDomain, type HeldNetwork, type PlantState } from './plant-state.js'
import { domainAccess, inDomains } from './domain-access.js'
import { networkClassad, releaseBridge } from './networks.js'
import { creatingClassad } from './classad.js'
import { isCreating } from './order-machine.js'
import type { PlantContext } from './components.js'

type VmRecordMessage = Extract<PlantMessage, { type: 'vm.query' | 'query.done' | 'vm.destroy' | 'destroy.done' | 'record.removed' | 'vm.list' }>

/**
 * The plant's answers about the VMs it holds: query (the line's live state written back to the
 * record), destroy (the VM, then its record and, with the domain's last VM, its network) and list
 * (the records, and the orders being made as `creating`). Each reads or writes the store in a
 * task; access is checked against the VM's domain.
 */
export function vmRecordHandler (components: { line: ProductionLine, store: PlantStore, hostNetworks?: HostNetworks | undefined, transport: { self(): { peer: string } } }): (state: PlantState, message: VmRecordMessage, ctx: PlantContext) => PlantState {
  const { line, store } = components
  return (state, message, ctx) => {
    switch (message.type) {
      case 'vm.query': {
        const { vmid, domains, reply } = message
        ctx.task(async (signal) => await queryVm(components, vmid, domains, signal), (outcome) => ({ type: 'query.done', vmid, outcome, reply }))
        return state
      }
      case 'query.done': {
        const { vmid, outcome, reply } = message
        if (!outcome.ok) {
          reply.reject(outcome.error)
          return state
        }
        if (outcome.value.state === 'crashed') state.vms.delete(vmid)
        reply.resolve(outcome.value)
        return state
      }
      case 'vm.destroy': {
        const { vmid, domains, reply } = message
        ctx.task(async (signal) => {
          const record = await store.getVm(vmid, { signal })
          if (record === undefined) throw new VmNotFoundError(vmid)
          domainAccess(record.classad, domains)
          await line.destroy(vmid, { signal })
          return domainIdOf(record.classad.domain, record.classad.domainKey)
        }, (outcome) => outcome.ok
          ? { type: 'destroy.done', vmid, outcome: { ok: true, value: undefined }, domain: outcome.value, reply }
          : { type: 'destroy.done', vmid, outcome, reply })
        return state
      }
      case 'destroy.done': {
        const { vmid, outcome, reply } = message
        if (!outcome.ok) {
          if (reply !== undefined) reply.reject(outcome.error)
          else ctx.log.error('could not destroy %s: %s', vmid, outcome.error.message)
          return state
        }
        const { releaseNetwork, released } = forgetVm(state, vmid, message.domain)
        ctx.task(async (signal) => {
          // the domain's last VM is gone: so is its bridge. Asked for first, so that a later
          // production of the domain (which makes the bridge again) is queued after the removal
          await Promise.all([
            released !== undefined ? releaseBridge(state.network, components.hostNetworks, released.allocation.index, { signal }) : undefined,
            store.removeVm(vmid, releaseNetwork, { signal })
          ])
        }, (removed) => ({ type: 'record.removed', vmid, outcome: removed, ...(reply !== undefined ? { reply } : {}) }))
        return state
      }
      case 'record.removed': {
        const { vmid, outcome, reply } = message
        if (!outcome.ok) {
          ctx.log.error('could not remove the record of %s: %s', vmid, outcome.error.message)
          ctx.emit({ type: 'store.write-failed', op: 'remove', vmid, error: outcome.error })
          reply?.reject(outcome.error)
          return state
        }
        ctx.log('destroyed %s', vmid)
        reply?.resolve({ vmid, destroyed: true })
        return state
      }
      case 'vm.list': {
        const { domains, reply } = message
        const creating = creatingClassads(state, { plant: components.transport.self().peer, line: line.kind, now: ctx.clock.now() }).filter((ad) => inDomains(ad, domains))
        ctx.task(async (signal) => {
          const recorded = (await store.listVms({ signal })).filter((r) => inDomains(r.classad, domains)).map((r) => r.classad)
          // a production that committed while the store was read is there already
          return [...recorded, ...creating.filter((ad) => !recorded.some((r) => r.vmid === ad.vmid))]
        }, (outcome) => settle(reply, outcome))
        return state
      }
      default: {
        const unknown: never = message
        throw new Error(`unknown VM record message ${(unknown as { type: string }).type}`)
      }
    }
  }
}

/**
 * the VM is gone: the plant no longer holds it, nor the network of a domain it was the last VM of.
 * A VM found crashed left the held VMs already, so its domain comes from its record (`recorded`)
 */
function forgetVm (state: PlantState, vmid: string, recorded?: string): { releaseNetwork?: string, released?: HeldNetwork } {
  const domain = state.vms.get(vmid)?.domain ?? recorded
  state.vms.delete(vmid)
  if (domain === undefined || domainInUse(state, domain, vmid)) return {}
  const released = state.networks.get(domain)
  state.networks.delete(domain)
  return { releaseNetwork: domain, ...(released !== undefined ? { released } : {}) }
}

type RecordParts = { line: ProductionLine, store: PlantStore }

/** the VM's record, its state brought up to date with the line's */
async function queryVm ({ line, store }: RecordParts, vmid: string, domains: DomainRef[], signal: AbortSignal): Promise<Classad> {
  const record = await store.getVm(vmid, { signal })
  if (record === undefined) throw new VmNotFoundError(vmid)
  domainAccess(record.classad, domains)
  const live = await liveState(line, record.classad, signal)
  if (live === record.classad.state) return record.classad
  const updated = { ...record, classad: { ...record.classad, state: live } }
  await store.updateVm(updated, { signal })
  return updated.classad
}

/** the orders being made, as `vm.list` shows them */
function creatingClassads (state: PlantState, where: { plant: string, line: string, now: number }): Classad[] {
  return [...state.orders.values()]
    .filter((o) => isCreating(o.machine))
    .map((o) => creatingClassad(o, { ...where, network: networkClassad(state.network, state.networks.get(orderDomain(o.order))?.allocation) }))
}

async function liveState (line: ProductionLine, classad: Classad, signal: AbortSignal): Promise<Classad['state']> {
  try {
    return (await line.inspect(classad.vmid, { signal })).state
  } catch (err) {
    if (err instanceof VmNotFoundError) return 'crashed'
    throw err
  }
}
