import { Counter, Histogram, Registry } from 'prom-client'
import type { ActorEvents } from '../actors/runtime/index.js'
import type { PlantEvent } from '../actors/plant/events.js'
import type { ShopEvent } from '../actors/shop/events.js'
import type { BidAnswer, Classad } from '../interface/index.js'
import { registerSourceGauges, type MetricsSources } from './metrics-gauges.js'

export type { MetricsSources } from './metrics-gauges.js'

/** Latency buckets in seconds: a sim clone takes a millisecond, a cold QEMU golden a minute. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

/** The few decline reasons a label may carry: the reasons themselves are free text (no unbounded labels). */
export type DeclineReason = 'capacity' | 'network' | 'hardware' | 'image' | 'other'

/** Buckets a plant's free-text decline reason (cost.ts, pricing.ts) into a label value. */
export function declineReason (reason: string): DeclineReason {
  if (/network/i.test(reason)) return 'network'
  if (/slots|memory|\bMB\b|capacity|busy|full/i.test(reason)) return 'capacity'
  if (/image|golden/i.test(reason)) return 'image'
  if (/arch|\bos\b|line|attach|hardware|cannot/i.test(reason)) return 'hardware'
  return 'other'
}

/**
 * One node's Prometheus metrics, in its own registry (several nodes may share a process). The
 * actors know nothing of it: it subscribes to the domain events they emit (`watchPlant`,
 * `watchShop`), and reads gauges from the node's parts when scraped.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  private readonly bidsSent: Counter<'answer'>
  private readonly bidsWon: Counter
  private readonly bidsDeclined: Counter<'reason'>
  private readonly creates: Counter<'outcome'>
  private readonly clone: Histogram
  private readonly configure: Histogram
  private readonly create: Histogram
  private readonly storeErrors: Counter<'op'>
  private sources: MetricsSources = {}

  constructor () {
    const registers = [this.registry]
    this.bidsSent = new Counter({ name: 'vmplant_bids_sent_total', help: 'answers this plant sent to calls for bids, by answer (offer or decline)', labelNames: ['answer'], registers })
    this.bidsDeclined = new Counter({ name: 'vmplant_bids_declined_total', help: 'calls for bids this plant declined, by reason', labelNames: ['reason'], registers })
    this.bidsWon = new Counter({ name: 'vmplant_bids_won_total', help: 'orders this plant received for its offers', registers })
    this.creates = new Counter({ name: 'vmplant_creates_total', help: 'creates this shop answered, by outcome (ok or failed)', labelNames: ['outcome'], registers })
    this.clone = new Histogram({ name: 'vmplant_clone_seconds', help: 'time this plant spent cloning a VM it delivered', buckets: LATENCY_BUCKETS, registers })
    this.configure = new Histogram({ name: 'vmplant_configure_seconds', help: 'time this plant spent configuring a VM it delivered', buckets: LATENCY_BUCKETS, registers })
    this.create = new Histogram({ name: 'vmplant_create_seconds', help: 'bidding, cloning and configuring of a create this shop answered', buckets: LATENCY_BUCKETS, registers })
    this.storeErrors = new Counter({ name: 'vmplant_store_write_errors_total', help: 'writes to the plant store that failed, by operation', labelNames: ['op'], registers })
    for (const reason of ['capacity', 'network', 'hardware', 'image', 'other']) this.bidsDeclined.inc({ reason }, 0)
    for (const answer of ['offer', 'decline']) this.bidsSent.inc({ answer }, 0)
    for (const outcome of ['ok', 'failed']) this.creates.inc({ outcome }, 0)
    for (const op of ['commit', 'remove']) this.storeErrors.inc({ op }, 0)
    registerSourceGauges(registers, () => this.sources)
  }

  /** the node's parts the gauges read at scrape time */
  observe (sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources }
  }

  /** counts the plant's answers to calls, the orders it won, its productions and its store's failed writes */
  watchPlant (events: ActorEvents<PlantEvent>): void {
    events.addEventListener('bid.answered', ({ answer }) => { this.countAnswer(answer) })
    events.addEventListener('order.received', () => { this.bidsWon.inc() })
    events.addEventListener('order.delivered', ({ classad }) => { this.observeProduction(classad) })
    events.addEventListener('store.write-failed', ({ op }) => { this.storeErrors.inc({ op }) })
  }

  /** counts the creates the shop answered, once each, and how long the made ones took */
  watchShop (events: ActorEvents<ShopEvent>): void {
    events.addEventListener('create.answered', (event) => {
      this.creates.inc({ outcome: event.outcome })
      if (event.outcome === 'ok') this.create.observe(event.result.classad.timings.totalMs / 1000)
    })
  }

  async text (): Promise<string> {
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }

  private observeProduction (classad: Classad): void {
    this.clone.observe(classad.timings.cloningMs / 1000)
    this.configure.observe(classad.timings.configuringMs / 1000)
  }

  private countAnswer (bid: BidAnswer): void {
    this.bidsSent.inc({ answer: bid.type === 'bid.offer' ? 'offer' : 'decline' })
    if (bid.type === 'bid.decline') this.bidsDeclined.inc({ reason: declineReason(bid.reason) })
  }
}
