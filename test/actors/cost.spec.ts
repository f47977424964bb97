import test from 'ava'
import { COST_DEFAULTS, costModel, type PlantLoad } from '../../src/actors/plant/cost.js'
import { rankOffers } from '../../src/actors/shop/select.js'
import { seededRandom } from '../../src/actors/runtime/index.js'
import type { BidOffer } from '../../src/interface/messages.js'

const empty = (): PlantLoad => ({ runningVms: 0, domains: new Set(), networksInUse: 0, memoryUsedMB: 0, memoryCapacityMB: 8192 })

test('paper model: a new domain costs the network, a known one only 4 per running VM', (t) => {
  const cost = costModel(COST_DEFAULTS)
  t.deepEqual(cost(empty(), { domain: 'a', memoryMB: 64 }), { bid: true, cost: 50, reason: 'compute 4 x 0 VMs = 0, new host-only network 50' })
  const busy: PlantLoad = { ...empty(), runningVms: 13, domains: new Set(['a']), networksInUse: 1 }
  t.like(cost(busy, { domain: 'a', memoryMB: 64 }), { bid: true, cost: 52 })
  t.like(cost(busy, { domain: 'b', memoryMB: 64 }), { bid: true, cost: 102 })
})

test('paper model: section 3.4 illustration, the 14th VM of a domain goes to the other plant', (t) => {
  const cost = costModel(COST_DEFAULTS)
  const plants = [empty(), empty()]
  const placed: number[] = []
  const random = seededRandom(7)
  for (let i = 0; i < 14; i++) {
    const offers = plants.map((load, index) => ({ index, verdict: cost(load, { domain: 'grid', memoryMB: 64 }) }))
    const bids = offers.filter((o) => o.verdict.bid).map((o) => ({ type: 'bid.offer', requestId: 'r', plant: { peer: String(o.index), addrs: [] }, cost: (o.verdict as { cost: number }).cost, reason: '' }) as BidOffer)
    const winner = Number(rankOffers(bids, random).ranked[0]?.plant.peer)
    const load = plants[winner] as PlantLoad
    load.runningVms++
    if (!load.domains.has('grid')) { (load.domains as Set<string>).add('grid'); load.networksInUse++ }
    placed.push(winner)
  }
  t.true(placed.slice(0, 13).every((p) => p === placed[0]))
  t.not(placed[13], placed[0])
})

test('a plant that cannot host the VM does not bid, and says why', (t) => {
  const cost = costModel({ ...COST_DEFAULTS, maxVms: 2, maxNetworks: 1 })
  t.like(cost({ ...empty(), runningVms: 2, domains: new Set(['a']), networksInUse: 1 }, { domain: 'a', memoryMB: 64 }), { bid: false, reason: 'all 2 VM slots are taken' })
  t.like(cost({ ...empty(), runningVms: 1, domains: new Set(['a']), networksInUse: 1 }, { domain: 'b', memoryMB: 64 }), { bid: false, reason: 'all 1 host-only networks are taken by other domains' })
  t.like(cost({ ...empty(), memoryUsedMB: 8000 }, { domain: 'a', memoryMB: 256 }), { bid: false, reason: 'needs 256 MB, 192 MB free' })
})

test('memory model: the cost grows with the host memory in use', (t) => {
  const cost = costModel({ ...COST_DEFAULTS, model: 'memory' })
  t.like(cost(empty(), { domain: 'a', memoryMB: 1024 }), { bid: true, cost: 125 })
  t.like(cost({ ...empty(), memoryUsedMB: 4096 }, { domain: 'a', memoryMB: 1024 }), { bid: true, cost: 625 })
})

test('ranking puts the cheapest first and breaks ties at random', (t) => {
  const offer = (peer: string, cost: number): BidOffer => ({ type: 'bid.offer', requestId: 'r', plant: { peer, addrs: [] }, cost, reason: '' })
  const firsts = new Set<string>()
  for (let seed = 0; seed < 40; seed++) {
    const { ranked, tie } = rankOffers([offer('a', 50), offer('b', 50), offer('c', 60)], seededRandom(seed))
    t.true(tie)
    t.is(ranked[2]?.plant.peer, 'c')
    firsts.add(ranked[0]?.plant.peer as string)
  }
  t.deepEqual([...firsts].sort(), ['a', 'b'])
  t.false(rankOffers([offer('a', 1), offer('b', 2)], seededRandom(1)).tie)
})
