import { seededRandom, errorMessage, NoBidsError } from '../src/interface/index.js'
import { plantStatus } from '../src/edges/index.js'
import type { Message } from '../src/actors/runtime/index.js'
import { startSimFederation, SIM_SHOP_PEER, type SimFederation, type SimPlantInit, type SimBrokerInit } from './federation.js'
import { partitionMembers, plantNames, type Scenario } from './scenario.js'
import { planWorkload, type PlannedRequest } from './workload.js'
import { summarize, writeReport, type PlantSample, type RequestRow, type SimSummary } from './report.js'
import type { CostModelName } from '../src/pricing/index.js'
import { runPlots, writePlots } from './plots.js'
import { asPolicy, type Policy } from './policy.js'
import { sampler, type Duration } from './distributions.js'
import type { VirtualClock } from './virtual-clock.js'
import { lineLatencies } from './line-profiles.js'
import { SimLinks, type LinkSpec } from './links.js'
import type { Pricing } from './quality.js'

export interface SimProgress { done: number, total: number, virtualMs: number }

export interface RunOptions {
  /** @default the scenario's seed */
  seed?: number
  /** a folder for requests.csv, plants.csv and the plots; none: nothing is written */
  out?: string
  /** the cost model every plant bids with (whatever the scenario gives each), or a policy; @default the scenario's */
  policy?: CostModelName | Policy
  /** called after every answered request */
  onProgress?: (progress: SimProgress) => void
  /** sees every message sent to an actor, by the scenario's name of its node (`shop`, `broker:<site>`, a plant's name) */
  trace?: (node: string, message: Message) => void
}

export interface SimResult { rows: RequestRow[], samples: PlantSample[], summary: SimSummary }

/** the base58 alphabet of peer ids: a VMID must name its plant in it */
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function peerId (role: 'P' | 'B', index: number): string {
  let digits = ''
  let n = index
  do { digits = (BASE58[n % 58] as string) + digits; n = Math.floor(n / 58) } while (n > 0)
  return `12D3KooWSim${role}${digits.padStart(4, '1')}`
}

interface Built { federation: SimFederation, names: Map<string, string>, peers: Map<string, string>, links?: SimLinks, pricing: Pricing }

/** a stream of its own for each plant's line and for the links, so that one's draws do not shift another's */
const stream = (seed: number, salt: number, index = 0): ReturnType<typeof seededRandom> => seededRandom((Math.imul((seed ^ salt) >>> 0, 0x9e3779b1) + index) >>> 0)

async function build (scenario: Scenario, seed: number, policy: Policy | undefined, trace?: RunOptions['trace']): Promise<Built> {
  const plants: SimPlantInit[] = []
  const brokers: SimBrokerInit[] = []
  const names = new Map<string, string>([[SIM_SHOP_PEER, 'shop']])
  const peers = new Map<string, string>([['shop', SIM_SHOP_PEER]])
  const { topology } = scenario
  const specs = new Map<string, LinkSpec>([[SIM_SHOP_PEER, { latencyMs: topology.latencyMs, loss: topology.loss }]])
  const pricing = new Map<string, { computeCost: number, networkCost: number }>()
  // a constant latency stays the node's own, as before there were link models
  const constant = (d: Duration): { latencyMs?: number } => typeof d === 'number' ? { latencyMs: d } : {}
  for (const site of topology.sites) {
    const link: LinkSpec = { latencyMs: site.latencyMs ?? topology.latencyMs, loss: site.loss ?? topology.loss }
    const latency = site.latencyMs !== undefined ? constant(site.latencyMs) : {}
    const broker = site.broker && policy?.exhaustive !== true
    if (broker) {
      const peer = peerId('B', brokers.length)
      brokers.push({ site: site.name, peer, ...latency })
      peers.set(`broker:${site.name}`, peer)
      names.set(peer, `broker:${site.name}`)
      specs.set(peer, link)
    }
    for (const plant of site.plants) {
      const latencies = lineLatencies(plant.line)
      for (const name of plantNames(plant)) {
        const peer = peerId('P', plants.length)
        const random = stream(seed, 0x11e511e5, plants.length)
        const line = { cloneMs: sampler(latencies.cloneMs, random), resumeMs: sampler(latencies.resumeMs, random), actionMs: sampler(latencies.actionMs, random), goldenMs: sampler(latencies.goldenMs, random) }
        const cost = policy?.model !== undefined ? { ...plant.cost, model: policy.model } : plant.cost
        plants.push({ peer, memoryMB: plant.memoryMB, cost, line, ...(plant.learning !== undefined ? { learning: plant.learning } : {}), ...(broker ? { site: site.name } : {}), ...latency })
        names.set(peer, name)
        peers.set(name, peer)
        specs.set(peer, link)
        pricing.set(name, { computeCost: plant.cost.computeCost, networkCost: plant.cost.networkCost })
      }
    }
  }
  // links are modelled only when some link needs it, so constant-latency runs stay as they were
  const modelled = [...specs.values()].some((l) => typeof l.latencyMs !== 'number' || l.loss > 0) || scenario.failures.some((f) => f.partition !== undefined)
  const links = modelled ? new SimLinks(specs, stream(seed, 0x1111cafe)) : undefined
  const shop = policy?.choices !== undefined ? { ...topology.shop, choices: policy.choices } : policy?.exhaustive === true ? (({ choices: _, ...rest }) => rest)(topology.shop) : topology.shop
  // the federation names actors `plant-<i>` and `broker-<site>`: say the scenario's names
  const plantNamesByIndex = plants.map((p) => names.get(p.peer as string) as string)
  const traced = trace === undefined
    ? {}
    : { trace: (actor: string, message: Message) => trace(actor.startsWith('plant-') ? plantNamesByIndex[Number(actor.slice(6))] ?? actor : actor.startsWith('broker-') ? `broker:${actor.slice(7)}` : actor, message) }
  const federation = await startSimFederation({ plants, brokers, seed, ...constant(topology.latencyMs), shop, ...(links !== undefined ? { links } : {}), ...traced })
  return { federation, names, peers, pricing, ...(links !== undefined ? { links } : {}) }
}

/** Schedules each failure's start and end: nodes going down and up, partitions cut and healed. */
function scheduleFailures (scenario: Scenario, built: Built): void {
  const { federation: { clock, network }, peers, links } = built
  scenario.failures.forEach((failure, i) => {
    if (failure.partition !== undefined) {
      // a node the policy has not (a broker, in the exhaustive run) is in no side
      const side = (members: string[]): Set<string> => new Set(members.flatMap((m) => partitionMembers(scenario.topology.sites, m) ?? []).flatMap((n) => peers.get(n) ?? []))
      const [a, b] = [side(failure.partition[0]), side(failure.partition[1])]
      void clock.sleep(failure.fromMs).then(() => { links?.cut(`failure-${i}`, a, b) })
      if (failure.toMs !== undefined) void clock.sleep(failure.toMs).then(() => { links?.heal(`failure-${i}`) })
      return
    }
    const peer = peers.get(failure.plant ?? `broker:${failure.broker ?? ''}`)
    if (peer === undefined) return
    void clock.sleep(failure.fromMs).then(() => { network.setDown(peer, true) })
    if (failure.toMs !== undefined) void clock.sleep(failure.toMs).then(() => { network.setDown(peer, false) })
  })
}

/**
 * Serves each request at its arrival; settles when all are served, or at the first that throws.
 * Only the next arrival waits in the clock's heap (a million pending arrivals were a large run's
 * biggest heap and most of its memory), with the tie-break it would have had if every arrival had
 * been scheduled now: the events fire in the same order either way.
 */
async function arrive (clock: VirtualClock, start: number, planned: PlannedRequest[], serve: (request: PlannedRequest, index: number) => Promise<void>): Promise<void> {
  let resolve: () => void = () => {}
  let reject: (err: unknown) => void = () => {}
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  const first = clock.reserve(planned.length)
  const order = planned.map((_, i) => i).sort((a, b) => (planned[a] as PlannedRequest).atMs - (planned[b] as PlannedRequest).atMs || a - b)
  let left = planned.length
  let next = 0
  const feed = (): void => {
    const i = order[next++]
    if (i === undefined) return
    const request = planned[i] as PlannedRequest
    clock.scheduleAt(start + request.atMs, first + i, () => {
      feed()
      serve(request, i).then(() => { if (--left === 0) resolve() }, reject)
    })
  }
  if (left === 0) resolve()
  feed()
  await promise
}

/** What a run's parts share: the federation, the scenario's names of its peers, and the run's own time. */
interface RunWorld {
  built: Built
  /** the virtual time the run started at */
  start: number
  /** virtual ms since the run started */
  rel: () => number
  /** messages name peers by id, or by its last 8 characters: says the scenario's names instead */
  readable: (text: string) => string
}

function runWorld (built: Built): RunWorld {
  const { federation: { clock }, names } = built
  const start = clock.now()
  return {
    built,
    start,
    rel: () => clock.now() - start,
    readable: (text) => text.replace(/(?:12D3KooW)?Sim([PB])[1-9A-HJ-NP-Za-km-z]{4}/g, (id) => names.get(id.startsWith('12D3') ? id : `12D3KooW${id}`) ?? id)
  }
}

/** One request: its create answered into its row (`onAnswered` then), and its VM destroyed when its lifetime is over. */
async function serveRequest (world: RunWorld, scenario: Scenario, request: PlannedRequest, row: RequestRow, onAnswered: () => void): Promise<void> {
  const { built: { federation: { client, clock }, names }, rel, readable } = world
  let vmid: string | undefined
  try {
    const result = await client.create(scenario.workload.mix[request.spec]?.raw, request.domain)
    vmid = result.classad.vmid
    Object.assign(row, { outcome: 'ok', plant: names.get(result.classad.plant) ?? result.classad.plant, cost: result.classad.cost, attempts: result.bidding.attempts.length, offers: result.bidding.offers.length })
  } catch (err: unknown) {
    row.outcome = err instanceof NoBidsError && /^no plant bid/.test(err.message) ? 'refused' : 'error'
    row.reason = readable(errorMessage(err))
  }
  row.latencyMs = rel() - request.atMs
  onAnswered()
  if (vmid === undefined || request.lifetimeMs === undefined) return
  await clock.sleep(request.lifetimeMs)
  try {
    await client.destroy(vmid)
    row.destroyedMs = rel()
  } catch (err: unknown) {
    row.reason = readable(`destroy failed: ${errorMessage(err)}`)
  }
}

/** Samples every plant's status into `samples`, every `everyMs` of virtual time, until `finished()` (sampled once more then). */
async function samplePlants (world: RunWorld, everyMs: number, finished: () => boolean, samples: PlantSample[]): Promise<void> {
  const { built: { federation, names }, rel } = world
  for (;;) {
    const at = rel()
    for (const plant of federation.plants) {
      const status = await plantStatus(plant.actor)
      samples.push({ atMs: at, plant: names.get(plant.peer) ?? plant.peer, up: !federation.network.isDown(plant.peer), vms: status.vms, producing: status.producing, networks: status.networks })
    }
    if (finished()) return
    await federation.clock.sleep(everyMs)
  }
}

/**
 * Runs a scenario on one virtual clock: every arrival, failure and sample is an event scheduled
 * up front, so requests overlap as they would in a real federation and nothing waits on the host.
 */
export async function runScenario (scenario: Scenario, options: RunOptions = {}): Promise<SimResult> {
  const seed = options.seed ?? scenario.seed
  const policy = options.policy !== undefined ? asPolicy(options.policy) : undefined
  // the workload has its own random stream, so the actors' draws cannot change it
  const planned = planWorkload(scenario.workload, seededRandom((seed ^ 0x5eed5eed) >>> 0))
  const built = await build(scenario, seed, policy, options.trace)
  const { federation } = built
  const { clock } = federation
  const world = runWorld(built)
  const rows: RequestRow[] = planned.map((r) => ({ id: r.id, arrivalMs: r.atMs, outcome: 'lost', domain: r.domain, spec: r.spec }))
  const samples: PlantSample[] = []
  let done = 0
  const onAnswered = (): void => {
    done++
    options.onProgress?.({ done, total: planned.length, virtualMs: world.rel() })
  }

  scheduleFailures(scenario, built)
  let finished = false
  const requests = arrive(clock, world.start, planned, async (r, i) => { await serveRequest(world, scenario, r, rows[i] as RequestRow, onAnswered) }).finally(() => { finished = true })
  const sampling = samplePlants(world, scenario.sampleEveryMs, () => finished, samples)
  let failure: string | undefined
  try {
    await clock.run(Promise.all([requests, sampling]), { maxSteps: 100_000 + 2_000 * planned.length })
  } catch (err: unknown) {
    // the world stopped with requests unanswered: they stay `lost`, and the summary says so
    failure = errorMessage(err)
  }
  const endMs = world.rel()
  // stopping rejects the replies still owed: what was unanswered until now stays `lost`
  const answered = rows.map((row) => ({ ...row }))
  await federation.stop()
  const summary = summarize({
    scenario: scenario.name,
    seed,
    endMs,
    rows: answered,
    samples,
    pricing: built.pricing,
    ...(policy !== undefined ? { policy: policy.name } : {}),
    ...(built.links !== undefined ? { messagesLost: built.links.lost } : {}),
    ...(failure !== undefined ? { failure } : {})
  })
  if (options.out !== undefined) {
    await writeReport(options.out, answered, samples)
    await writePlots(options.out, runPlots(answered, samples, policy?.name))
  }
  return { rows: answered, samples, summary }
}
