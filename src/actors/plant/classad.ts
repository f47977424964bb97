import type { Classad } from '../../interface/index.js'
import type { Production } from './plant-state.js'
import type { ProductionResult } from './production.js'

/** The classad of a VM just produced: what the client gets and the plant's store records. */
export function classadOf (production: Production, result: ProductionResult, where: { plant: string, line: string, now: number, network: Classad['network'] }): Classad {
  const { order, spec } = production
  return {
    vmid: production.vmid,
    plant: where.plant,
    domain: order.domain,
    ...(order.credential !== undefined ? { domainKey: order.credential.key } : {}),
    owner: order.owner,
    state: 'running',
    memoryMB: spec.hardware.memoryMB,
    os: spec.hardware.os,
    arch: spec.hardware.arch,
    line: where.line,
    goldenImage: result.image.id,
    network: where.network,
    ...(result.nic !== undefined ? { nic: result.nic } : {}),
    cost: order.cost,
    createdAt: new Date(where.now).toISOString(),
    timings: { biddingMs: order.biddingMs, cloningMs: result.cloningMs, configuringMs: result.configuringMs, totalMs: order.biddingMs + result.cloningMs + result.configuringMs },
    actions: { cloned: result.cloned, run: result.run },
    outputs: Object.fromEntries(Object.entries(result.outputs).map(([id, r]) => [id, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs }])),
    attributes: result.attributes,
    recovered: result.recovered
  }
}
