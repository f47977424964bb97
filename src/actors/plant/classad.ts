import type { Classad } from '../../interface/index.js'
import type { PlantOrder } from './plant-state.js'
import type { ProductionResult } from './production.js'

/** what a classad says of the order it was made for */
type Made = Pick<PlantOrder, 'vmid' | 'order' | 'spec'>
type Where = { plant: string, line: string, now: number, network: Classad['network'] }

/** The classad of a VM just produced: what the client gets and the plant's store records. */
export function classadOf (production: Made, result: ProductionResult, where: Where): Classad {
  return {
    ...classadBase(production, where),
    state: 'running',
    goldenImage: result.image.id,
    ...(result.nic !== undefined ? { nic: result.nic } : {}),
    timings: { biddingMs: production.order.biddingMs, cloningMs: result.cloningMs, configuringMs: result.configuringMs, totalMs: production.order.biddingMs + result.cloningMs + result.configuringMs },
    actions: { cloned: result.cloned, run: result.run },
    outputs: Object.fromEntries(Object.entries(result.outputs).map(([id, r]) => [id, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs }])),
    attributes: result.attributes,
    recovered: result.recovered
  }
}

/**
 * What `vm.list` says of an order still in production: its domain, owner, hardware and the
 * domain's network, in state `creating`, with nothing produced yet. A tunnel proxy follows the
 * plant from it, so that the VM's DHCP request, sent while it is made, reaches the client's LAN.
 */
export function creatingClassad (production: Made, where: Where): Classad {
  return {
    ...classadBase(production, where),
    state: 'creating',
    goldenImage: '',
    timings: { biddingMs: production.order.biddingMs, cloningMs: 0, configuringMs: 0, totalMs: production.order.biddingMs },
    actions: { cloned: [], run: [] },
    outputs: {},
    attributes: {},
    recovered: []
  }
}

/** what a VM's classad says of its order and hardware, whatever its state */
function classadBase (production: Made, where: Where): Omit<Classad, 'state' | 'goldenImage' | 'timings' | 'actions' | 'outputs' | 'attributes' | 'recovered'> {
  const { order, spec } = production
  return {
    vmid: production.vmid,
    plant: where.plant,
    domain: order.domain,
    ...(order.credential !== undefined ? { domainKey: order.credential.key } : {}),
    owner: order.owner,
    memoryMB: spec.hardware.memoryMB,
    os: spec.hardware.os,
    arch: spec.hardware.arch,
    line: where.line,
    network: where.network,
    cost: order.cost,
    createdAt: new Date(where.now).toISOString()
  }
}
