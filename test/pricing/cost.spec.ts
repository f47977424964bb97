import test from 'ava'
import { COST_DEFAULTS, costModel, rankOffers, type PlantLoad } from '../../src/pricing/index.js'
import { seededRandom } from '../../src/actors/runtime/index.js'
import type { BidOffer } from '../../src/interface/messages.js'
import { validateNodeConfig } from '../../src/daemon/config.js'

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

test('warm model: the paper\'s cost plus 10 per action left to run and 50 without an admissible image', (t) => {
  const warm = costModel({ ...COST_DEFAULTS, model: 'warm' })
  const paper = costModel(COST_DEFAULTS)
  const load: PlantLoad = { ...empty(), runningVms: 2, domains: new Set(['a']), networksInUse: 1 }
  t.deepEqual(warm(load, { domain: 'a', memoryMB: 64, image: { saves: 2, remaining: 1, local: true } }), { bid: true, cost: 18, reason: 'compute 4 x 2 VMs = 8, reuses a\'s network, golden image saves 2, 1 to run: 10' })
  t.like(warm(load, { domain: 'a', memoryMB: 64, image: { saves: 0, remaining: 3, local: false } }), { bid: true, cost: 8 + 50 + 30 })
  t.like(warm(load, { domain: 'b', memoryMB: 64, image: { saves: 3, remaining: 0, local: true } }), { bid: true, cost: 58 })
  // without an image part (a call with no DAG, or at order time) it is the paper's cost
  t.deepEqual(warm(load, { domain: 'b', memoryMB: 64 }), paper(load, { domain: 'b', memoryMB: 64 }))
  // the config's own charges win over the warm defaults
  t.like(costModel({ ...COST_DEFAULTS, model: 'warm', actionCost: 1, noImageCost: 0 })(load, { domain: 'a', memoryMB: 64, image: { saves: 0, remaining: 3, local: false } }), { cost: 11 })
  t.like(warm({ ...load, runningVms: 32 }, { domain: 'a', memoryMB: 64 }), { bid: false, reason: 'all 32 VM slots are taken' })
})

test('paper and memory models ignore an image part unless its charges are configured', (t) => {
  const image = { saves: 0, remaining: 5, local: false }
  t.like(costModel(COST_DEFAULTS)(empty(), { domain: 'a', memoryMB: 64, image }), { cost: 50, reason: 'compute 4 x 0 VMs = 0, new host-only network 50, no golden image here, 5 to run' })
  t.like(costModel({ ...COST_DEFAULTS, model: 'memory' })(empty(), { domain: 'a', memoryMB: 1024, image }), { cost: 125 })
})

test('random model: bids come from the seeded source it is given, within 0..maxRandomCost', (t) => {
  const draws = (seed: number, config = COST_DEFAULTS): number[] => {
    const cost = costModel({ ...config, model: 'random' }, { random: seededRandom(seed) })
    return Array.from({ length: 50 }, () => (cost(empty(), { domain: 'a', memoryMB: 64 }) as { cost: number }).cost)
  }
  t.deepEqual(draws(4), draws(4), 'the same seed, the same bids')
  t.notDeepEqual(draws(5), draws(4))
  t.true(draws(4).every((c) => Number.isInteger(c) && c >= 0 && c <= 100))
  t.true(new Set(draws(4)).size > 20, 'spread over the range')
  t.true(draws(9, { ...COST_DEFAULTS, maxRandomCost: 3 }).every((c) => c <= 3))
  const verdict = costModel({ ...COST_DEFAULTS, model: 'random' }, { random: seededRandom(1) })(empty(), { domain: 'a', memoryMB: 64 })
  t.regex((verdict as { reason: string }).reason, /^random bid \d+ of 0\.\.100$/)
  // the shared limits still hold
  t.like(costModel({ ...COST_DEFAULTS, model: 'random', maxVms: 1 }, { random: seededRandom(1) })({ ...empty(), runningVms: 1 }, { domain: 'a', memoryMB: 64 }), { bid: false, reason: 'all 1 VM slots are taken' })
})

test('random model: never Math.random, and refused without a seeded source', (t) => {
  const saved = Math.random
  Math.random = () => { throw new Error('Math.random called') }
  try {
    const cost = costModel({ ...COST_DEFAULTS, model: 'random' }, { random: seededRandom(2) })
    t.true(cost(empty(), { domain: 'a', memoryMB: 64 }).bid)
  } finally {
    Math.random = saved
  }
  t.throws(() => costModel({ ...COST_DEFAULTS, model: 'random' }), { instanceOf: TypeError, message: /needs a seeded random source/ })
})

test('a bad cost config is refused naming the field', (t) => {
  const error = (cost: unknown): string => {
    try {
      validateNodeConfig({ roles: ['plant'], dataDir: 'x', plant: { cost } })
      return 'accepted'
    } catch (err: any) {
      return err.message
    }
  }
  t.regex(error({ model: 'cheapest' }), /^config: plant\.cost\.model: .*"paper".*"memory".*"warm".*"random"/)
  t.regex(error({ model: 'random', maxRandomCost: 0 }), /^config: plant\.cost\.maxRandomCost: /)
  t.regex(error({ model: 'warm', actionCost: -1 }), /^config: plant\.cost\.actionCost: /)
  t.regex(error({ model: 'warm', warmth: 3 }), /^config: plant\.cost: unknown field\(s\) warmth/)
  t.is(error({ model: 'warm', actionCost: 2 }), 'accepted')
})
