import { seededRandom, NoBidsError } from '../src/interface/index.js'
import { plantMessages } from '../src/actors/plant/messages.js'
import { startSimFederation, type SimFederation, type SimPlantInit, type SimBrokerInit } from './federation.js'
import { plantNames, type Scenario } from './scenario.js'
import { planWorkload, type PlannedRequest } from './workload.js'
import { summarize, writeReport, type PlantSample, type RequestRow, type SimSummary } from './report.js'
import type { CostModelName } from '../src/actors/plant/cost.js'
import { runPlots, writePlots } from './plots.js'

export interface SimProgress { done: number, total: number, virtualMs: number }

export interface RunOptions {
  /** @default the scenario's seed */
  seed?: number
  /** a folder for requests.csv, plants.csv and the plots; none: nothing is written */
  out?: string
  /** the cost model every plant bids with, whatever the scenario gives each; @default the scenario's */
  policy?: CostModelName
  /** called after every answered request */
  onProgress?: (progress: SimProgress) => void
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

interface Built { federation: SimFederation, names: Map<string, string>, peers: Map<string, string> }

async function build (scenario: Scenario, seed: number, policy?: CostModelName): Promise<Built> {
  const plants: SimPlantInit[] = []
  const brokers: SimBrokerInit[] = []
  const names = new Map<string, string>()
  const peers = new Map<string, string>()
  for (const site of scenario.topology.sites) {
    const latency = site.latencyMs !== undefined ? { latencyMs: site.latencyMs } : {}
    if (site.broker) {
      const peer = peerId('B', brokers.length)
      brokers.push({ site: site.name, peer, ...latency })
      peers.set(`broker:${site.name}`, peer)
      names.set(peer, `broker:${site.name}`)
    }
    for (const plant of site.plants) {
      for (const name of plantNames(plant)) {
        const peer = peerId('P', plants.length)
        const cost = policy !== undefined ? { ...plant.cost, model: policy } : plant.cost
        plants.push({ peer, memoryMB: plant.memoryMB, cost, line: plant.line, ...(plant.learning !== undefined ? { learning: plant.learning } : {}), ...(site.broker ? { site: site.name } : {}), ...latency })
        names.set(peer, name)
        peers.set(name, peer)
      }
    }
  }
  const federation = await startSimFederation({ plants, brokers, seed, latencyMs: scenario.topology.latencyMs, shop: scenario.topology.shop })
  return { federation, names, peers }
}

/**
 * Runs a scenario on one virtual clock: every arrival, failure and sample is an event scheduled
 * up front, so requests overlap as they would in a real federation and nothing waits on the host.
 */
export async function runScenario (scenario: Scenario, options: RunOptions = {}): Promise<SimResult> {
  const seed = options.seed ?? scenario.seed
  // the workload has its own random stream, so the actors' draws cannot change it
  const planned = planWorkload(scenario.workload, seededRandom((seed ^ 0x5eed5eed) >>> 0))
  const { federation, names, peers } = await build(scenario, seed, options.policy)
  const { clock, network, client } = federation
  const start = clock.now()
  const rel = (): number => clock.now() - start
  // messages name peers by id, or by its last 8 characters: say the scenario's names instead
  const readable = (text: string): string => text.replace(/(?:12D3KooW)?Sim([PB])[1-9A-HJ-NP-Za-km-z]{4}/g, (id) => names.get(id.startsWith('12D3') ? id : `12D3KooW${id}`) ?? id)
  const rows: RequestRow[] = planned.map((r) => ({ id: r.id, arrivalMs: r.atMs, outcome: 'lost', domain: r.domain, spec: r.spec }))
  const samples: PlantSample[] = []
  let done = 0

  const serve = async (request: PlannedRequest, row: RequestRow): Promise<void> => {
    await clock.sleep(request.atMs)
    let vmid: string | undefined
    try {
      const result = await client.create(scenario.workload.mix[request.spec]?.raw, request.domain)
      vmid = result.classad.vmid
      Object.assign(row, { outcome: 'ok', plant: names.get(result.classad.plant) ?? result.classad.plant, cost: result.classad.cost, attempts: result.bidding.attempts.length, offers: result.bidding.offers.length })
    } catch (err: any) {
      row.outcome = err instanceof NoBidsError && /^no plant bid/.test(err.message) ? 'refused' : 'error'
      row.reason = readable(err?.message ?? String(err))
    }
    row.latencyMs = rel() - request.atMs
    done++
    options.onProgress?.({ done, total: planned.length, virtualMs: rel() })
    if (vmid === undefined || request.lifetimeMs === undefined) return
    await clock.sleep(request.lifetimeMs)
    try {
      await client.destroy(vmid)
      row.destroyedMs = rel()
    } catch (err: any) {
      row.reason = readable(`destroy failed: ${err?.message ?? String(err)}`)
    }
  }

  const sample = async (): Promise<void> => {
    const at = rel()
    for (const plant of federation.plants) {
      const status = await plant.actor.ask(plantMessages.status())
      samples.push({ atMs: at, plant: names.get(plant.peer) ?? plant.peer, up: !network.isDown(plant.peer), vms: status.vms, producing: status.producing, networks: status.networks })
    }
  }
  let finished = false
  const sampler = async (): Promise<void> => {
    for (;;) {
      await sample()
      if (finished) return
      await clock.sleep(scenario.sampleEveryMs)
    }
  }

  for (const failure of scenario.failures) {
    const peer = peers.get(failure.plant ?? `broker:${failure.broker ?? ''}`) as string
    void clock.sleep(failure.fromMs).then(() => { network.setDown(peer, true) })
    if (failure.toMs !== undefined) void clock.sleep(failure.toMs).then(() => { network.setDown(peer, false) })
  }
  const requests = Promise.all(planned.map(async (r, i) => { await serve(r, rows[i] as RequestRow) })).finally(() => { finished = true })
  const sampling = sampler()
  let failure: Error | undefined
  try {
    await clock.run(Promise.all([requests, sampling]), { maxSteps: 100_000 + 2_000 * planned.length })
  } catch (err: any) {
    // the world stopped with requests unanswered: they stay `lost`, and the summary says so
    failure = err
  }
  const endMs = rel()
  // stopping rejects the replies still owed: what was unanswered until now stays `lost`
  const answered = rows.map((row) => ({ ...row }))
  await federation.stop()
  const summary = summarize({ scenario: scenario.name, seed, endMs, rows: answered, samples, ...(options.policy !== undefined ? { policy: options.policy } : {}), ...(failure !== undefined ? { failure: failure.message } : {}) })
  if (options.out !== undefined) {
    await writeReport(options.out, answered, samples)
    await writePlots(options.out, runPlots(answered, samples, options.policy))
  }
  return { rows: answered, samples, summary }
}
