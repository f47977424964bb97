import type { Random } from '../src/interface/index.js'
import { drawDuration, type Duration } from './distributions.js'

/** Per-message delays and losses of the in-memory network. */
export interface LinkModel {
  /**
   * The delay of one message from `from` to `to`, or undefined when it is lost. `owner` is the
   * node whose link it travels (the callee of a request and its reply, the receiver of gossip),
   * `fallbackMs` that node's constant latency.
   */
  delay: (from: string, to: string, owner: string, fallbackMs: number) => number | undefined
}

/** A node's link: its one-way delay and the chance that a message on it is lost. */
export interface LinkSpec {
  latencyMs: Duration
  /** 0..1 */
  loss: number
}

/**
 * The links of a simulated federation: each node's latency distribution and loss, and partitions
 * (a set of peers cut from another) that come and go. Every draw is from its own seeded stream,
 * in event order, so a run replays exactly.
 */
export class SimLinks implements LinkModel {
  private readonly partitions = new Map<string, { a: ReadonlySet<string>, b: ReadonlySet<string> }>()
  /** messages lost to loss and to partitions, for the summary */
  lost = 0

  constructor (private readonly specs: ReadonlyMap<string, LinkSpec>, private readonly random: Random) {}

  /** from now on, messages between a peer of `a` and a peer of `b` are lost, both ways */
  cut (id: string, a: ReadonlySet<string>, b: ReadonlySet<string>): void {
    this.partitions.set(id, { a, b })
  }

  heal (id: string): void {
    this.partitions.delete(id)
  }

  cutBetween (from: string, to: string): boolean {
    for (const { a, b } of this.partitions.values()) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return true
    }
    return false
  }

  delay (from: string, to: string, owner: string, fallbackMs: number): number | undefined {
    if (this.partitions.size > 0 && this.cutBetween(from, to)) {
      this.lost++
      return undefined
    }
    const spec = this.specs.get(owner)
    if (spec === undefined) return fallbackMs
    if (spec.loss > 0 && this.random.next() < spec.loss) {
      this.lost++
      return undefined
    }
    return drawDuration(spec.latencyMs, this.random)
  }
}
