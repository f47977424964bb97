/**
 * bench/virtual-create: what the simulator costs. N plants of the sim line (clone 40 ms, resume
 * 10 ms, 100 ms per action) and the real shop and plant actors on a virtual clock and an
 * in-memory network (sim/federation.ts: no libp2p, no host timer); sequential creates of a
 * 2-action VM, each a full bid round plus production. Per N: the host's wall-clock time per
 * create (what simulating one create costs) and the create's virtual time, request to classad.
 * The sim federation has no destroy, so the VMs are kept and every plant has room for them all;
 * the creates' domains rotate over 8, as in bench/bidding.
 * Usage: node dist/bench/virtual-create.js [--plants 5,50,500] [--creates 200]
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { hostname, cpus, loadavg } from 'node:os'
import { startSimFederation } from '../sim/federation.js'
import { summarize, formatRow } from './stats.js'

const { values } = parseArgs({ options: { plants: { type: 'string', default: '5,50,500' }, creates: { type: 'string', default: '200' } } })
// the spec of test/sim/virtual-create.spec.ts
const spec = {
  hardware: { memoryMB: 128, os: 'linux' },
  actions: [
    { id: 'net', run: 'echo ip_address=10.0.0.7', exports: ['ip_address'] },
    { id: 'app', run: 'echo installed', after: ['net'] }
  ]
}
const plant = {
  line: { cloneMs: 40, resumeMs: 10, actionMs: 100 },
  cost: { model: 'paper' as const, maxNetworks: 4096, maxVms: 100_000 },
  memoryMB: 100_000_000
}

console.log(`# bench/virtual-create on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log('plants | creates | wall p50 ms | wall p99 ms | wall mean ms | virtual p50 ms | virtual p99 ms | virtual bidding p50 ms | bids/round | events/create | start ms')
for (const plants of values.plants.split(',').map(Number)) {
  const t0 = performance.now()
  const federation = await startSimFederation({ plants: Array.from({ length: plants }, () => plant) })
  const startMs = performance.now() - t0
  // counts the events the virtual clock fires: each is followed by a settling of the host's queues
  let events = 0
  const step = federation.clock.step.bind(federation.clock)
  federation.clock.step = () => { const fired = step(); if (fired) events++; return fired }
  try {
    const wall: number[] = []
    const virtual: number[] = []
    const bidding: number[] = []
    let bids = 0
    for (let i = 0; i < Number(values.creates); i++) {
      const started = performance.now()
      const at = federation.clock.now()
      const result = await federation.create(spec, `bench-${i % 8}`)
      wall.push(performance.now() - started)
      virtual.push(federation.clock.now() - at)
      bidding.push(result.classad.timings.biddingMs)
      bids += result.bidding.answered
    }
    const v = summarize(virtual)
    console.log(formatRow([plants, wall.length], summarize(wall), v.p50.toFixed(0), v.p99.toFixed(0), summarize(bidding).p50.toFixed(0), (bids / wall.length).toFixed(1), (events / wall.length).toFixed(0), startMs.toFixed(0)))
  } finally {
    await federation.stop()
  }
}
