import type { ActorContext, ActorEvent, Behavior, Message, TaskOutcome } from '../runtime/index.js'
import type { LoadReport, ProductionLine, Transport } from '../../interface/index.js'
import type { ImageCatalog } from '../../images/index.js'
import type { CostConfig, PlantLoad } from '../../pricing/index.js'

/** How a plant behind a broker reports its load. */
export interface LoadReportConfig {
  /** the config the plant's cost model was built from: the broker prices with the same model */
  cost: CostConfig
  /** a report at least this often, changed or not, in ms; @default 10000 */
  heartbeatMs?: number
  /** how long the broker may rely on one report, in ms; @default 3 x heartbeatMs */
  ttlMs?: number
}

export const LOAD_REPORT_DEFAULTS = { heartbeatMs: 10_000, missedHeartbeats: 3, retryMs: 500, retries: 4 } as const

/** the broker's wire allows this many images; the ones that save the most actions go first */
const MAX_REPORTED_IMAGES = 64

export type LoadReportMessage =
  /** `epoch`: the run of the plant that scheduled it; one of an earlier run (before a restart) is dropped */
  | { type: 'load.heartbeat', epoch: number }
  /** a broker appeared on the site: it should not wait for the next heartbeat */
  | { type: 'load.wanted' }
  | { type: 'load.sent', seq: number, outcome: TaskOutcome<void> }

/** What the plant keeps of its reports. */
export interface LoadReportState {
  epoch: number
  seq: number
  /** the load last reported, as a string, to push only when it changed */
  last: string
  /** failed reports in a row; retries stop after a few, the heartbeat goes on */
  failures: number
}

export interface LoadReporterParts {
  line: ProductionLine
  warehouse: Pick<ImageCatalog, 'index'>
  transport: Transport
  /** what the host has free now, in MB; read only when a report goes out */
  hostFreeMB?: (() => number) | undefined
}

/**
 * Pushes the plant's load (given without the host's free memory, which changes all the time and is
 * read only when a report goes out) to its site's broker: when it changes (a reservation, a commit, a
 * destroy, an image learned) and as a heartbeat on the plant's clock, so that the broker can
 * price calls for the plant and take a plant whose reports stop for dead.
 */
export class LoadReporter {
  private readonly heartbeatMs: number
  private readonly ttlMs: number

  constructor (private readonly parts: LoadReporterParts, private readonly config: LoadReportConfig) {
    this.heartbeatMs = config.heartbeatMs ?? LOAD_REPORT_DEFAULTS.heartbeatMs
    this.ttlMs = config.ttlMs ?? this.heartbeatMs * LOAD_REPORT_DEFAULTS.missedHeartbeats
  }

  /** a new run of the plant: reports at once and starts the heartbeat */
  start (load: PlantLoad, ctx: ActorContext<any>): LoadReportState {
    const state: LoadReportState = { epoch: ctx.clock.now(), seq: 0, last: '', failures: 0 }
    this.push(state, load, ctx)
    this.scheduleHeartbeat(state, ctx)
    return state
  }

  receive (state: LoadReportState, message: LoadReportMessage, load: PlantLoad, ctx: ActorContext<any>): void {
    switch (message.type) {
      case 'load.heartbeat': {
        if (message.epoch !== state.epoch) return
        this.push(state, load, ctx)
        this.scheduleHeartbeat(state, ctx)
        return
      }
      case 'load.wanted': {
        this.push(state, load, ctx)
        return
      }
      case 'load.sent': {
        if (message.outcome.ok) {
          state.failures = 0
          return
        }
        state.failures++
        ctx.log('could not report load %d: %s', message.seq, message.outcome.error.message)
        // a first report often goes out before gossipsub has a stream to the broker ("no peers"):
        // try the latest load again soon instead of leaving the broker blind until the heartbeat
        if (message.seq === state.seq && state.failures <= LOAD_REPORT_DEFAULTS.retries) ctx.task((signal) => ctx.clock.sleep(LOAD_REPORT_DEFAULTS.retryMs, { signal }), () => ({ type: 'load.wanted' }))
        return
      }
      default: {
        const unknown: never = message
        throw new Error(`unknown load report message ${(unknown as { type: string }).type}`)
      }
    }
  }

  /** after any other message: reports when the load changed, or when the warehouse may have */
  changed (state: LoadReportState, load: PlantLoad, imagesChanged: boolean, ctx: ActorContext<any>): void {
    if (imagesChanged || signature(load) !== state.last) this.push(state, load, ctx)
  }

  private scheduleHeartbeat (state: LoadReportState, ctx: ActorContext<any>): void {
    const { epoch } = state
    ctx.task((signal) => ctx.clock.sleep(this.heartbeatMs, { signal }), () => ({ type: 'load.heartbeat', epoch }))
  }

  /** the load is read now, in the mailbox; the images when the report goes out */
  private push (state: LoadReportState, load: PlantLoad, ctx: ActorContext<any>): void {
    const { line, warehouse, transport } = this.parts
    state.last = signature(load)
    const seq = ++state.seq
    const base = {
      type: 'load.report' as const,
      plant: transport.self().peer,
      epoch: state.epoch,
      seq,
      ttlMs: this.ttlMs,
      cost: this.config.cost,
      line: { kind: line.kind, ...lineLimits(line), overheadMB: Math.max(0, line.memoryCostMB(0)) },
      load: {
        runningVms: load.runningVms,
        domains: [...load.domains],
        memoryUsedMB: load.memoryUsedMB,
        memoryCapacityMB: load.memoryCapacityMB,
        ...(this.parts.hostFreeMB !== undefined ? { hostFreeMB: Math.max(0, this.parts.hostFreeMB()) } : {})
      }
    }
    ctx.task(async (signal) => {
      const index = await warehouse.index(line.kind)
      const images = [...index.images]
        .sort((a, b) => b.descriptor.applied.length - a.descriptor.applied.length)
        .slice(0, MAX_REPORTED_IMAGES)
        .map((image) => ({ id: image.id, hardware: { ...image.descriptor.hardware }, applied: image.descriptor.applied, cloneCost: image.cloneCost }))
      const report: LoadReport = { ...base, images }
      await transport.reportLoad(report, { signal })
    }, (outcome) => ({ type: 'load.sent', seq, outcome }))
  }
}

function lineLimits (line: ProductionLine): Pick<LoadReport['line'], 'minMemoryMB' | 'os' | 'arch'> {
  const caps = line.capabilities()
  return { minMemoryMB: caps.minMemoryMB, ...(caps.os !== undefined ? { os: caps.os } : {}), ...(caps.arch !== undefined ? { arch: caps.arch } : {}) }
}

function signature (load: PlantLoad): string {
  return `${load.runningVms}/${load.memoryUsedMB}/${load.memoryCapacityMB}/${[...load.domains].join(',')}`
}

export function isLoadReportMessage (message: { type: string }): message is LoadReportMessage {
  return message.type === 'load.heartbeat' || message.type === 'load.wanted' || message.type === 'load.sent'
}

/**
 * The plant's behaviour with load reports: started with each run of the plant, the reporter's own
 * messages handled here, and a report after any message that changed the load (or, `learning.done`,
 * the warehouse). `load` reads the load without the host's free memory.
 */
export function reportingLoad<S extends { report?: LoadReportState }, M extends Message, E extends ActorEvent> (inner: Behavior<S, M, E>, reporter: LoadReporter, load: (state: S) => PlantLoad): Behavior<S, M, E> {
  return {
    async init (ctx) {
      const state = await inner.init(ctx)
      state.report = reporter.start(load(state), ctx)
      return state
    },
    receive (state, message, ctx) {
      if (isLoadReportMessage(message)) {
        if (state.report !== undefined) reporter.receive(state.report, message, load(state), ctx)
        return state
      }
      const after = (next: S): S => {
        if (next.report !== undefined) reporter.changed(next.report, load(next), message.type === 'learning.done', ctx)
        return next
      }
      const next = inner.receive(state, message, ctx)
      return next instanceof Promise ? next.then(after) : after(next)
    },
    ...(inner.stop !== undefined ? { stop: inner.stop.bind(inner) } : {})
  }
}
