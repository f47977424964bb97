import { logger, type Logger } from '@libp2p/logger'
import type { Message as PubsubMessage } from '@libp2p/gossipsub'
import { AuthError, loadReportSchema, type AbortOptions, type Command, type Inbox, type LoadReport, errorMessage } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { decodeJson, encodeJson } from '../../codec.js'

/** A report carries at most 64 images of at most 256 identities; anything larger is not a report. */
export const MAX_REPORT_BYTES = 1024 * 1024

/** gossipsub topic of a site's plants' load reports to their broker */
export function siteLoadTopic (site: string): string {
  return `/vmplant/site/${site}/load/1.0.0`
}

/**
 * Where load traffic goes, once bound to its sender: `load.report` to the broker (a plant's
 * report, signed by that plant), `load.wanted` to the plant (a broker started listening to the
 * site's reports, so the plant should report now).
 */
export interface LoadHandlers {
  inbox: Inbox
  /** a message that failed decoding or sender binding; it was dropped */
  onDropped?: (what: string, from: string | undefined, reason: string) => void
}

export interface LoadInit {
  /** the site whose broker the plant reports to, or that the broker serves */
  site: string
  plant: boolean
  broker: boolean
  /** @default 'vmplant:load' */
  logPrefix?: string
}

export interface LoadComponents { libp2p: VmplantLibp2p }

/**
 * `/vmplant/site/<site>/load/1.0.0`: plants push their load to their site's broker on a gossipsub
 * topic only brokers subscribe to, so a report reaches the brokers and no other plant. Gossipsub
 * signs every message: the edge takes a report only from the plant it names.
 */
export interface LoadService {
  /** adds the topic listener; call before libp2p starts */
  start(): Promise<void>
  /** a broker subscribes to its site's reports; gossipsub takes subscriptions only once libp2p runs */
  subscribe(): void
  stop(): Promise<void>
  /** a plant's report, to the brokers of its site */
  report(report: LoadReport, options?: AbortOptions): Promise<void>
}

class Load implements LoadService {
  private readonly log: Logger
  private readonly topic: string
  private listening = false

  constructor (private readonly components: LoadComponents, private readonly init: LoadInit, private readonly handlers: LoadHandlers) {
    this.log = logger(init.logPrefix ?? 'vmplant:load')
    this.topic = siteLoadTopic(init.site)
  }

  private get pubsub () { return this.components.libp2p.services.pubsub }

  async start (): Promise<void> {
    if (this.listening) return
    this.listening = true
    if (this.init.broker) this.pubsub.addEventListener('message', this.onMessage)
    if (this.init.plant) this.pubsub.addEventListener('subscription-change', this.onSubscriptions)
  }

  subscribe (): void {
    if (this.init.broker) this.pubsub.subscribe(this.topic)
  }

  async stop (): Promise<void> {
    if (!this.listening) return
    this.listening = false
    this.pubsub.removeEventListener('message', this.onMessage)
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptions)
  }

  async report (report: LoadReport, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (!this.init.plant) throw new Error('only a plant reports its load')
    await this.pubsub.publish(this.topic, encodeJson(report))
  }

  private readonly onSubscriptions = (event: CustomEvent<{ peerId: { toString: () => string }, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    const joined = event.detail.subscriptions.some((s) => s.topic === this.topic && s.subscribe)
    if (joined) this.post({ to: 'plant', type: 'load.wanted', from: event.detail.peerId.toString() })
  }

  /** a command nobody answers, from an event handler: it only enters a mailbox */
  private post (command: Command): void {
    this.handlers.inbox.deliver(command).catch((err: unknown) => { this.log('could not deliver %s to the %s: %e', command.type, command.to, err) })
  }

  private readonly onMessage = (event: CustomEvent<PubsubMessage>): void => {
    const message = event.detail
    if (message.topic !== this.topic) return
    // gossipsub checks the signature of a signed message, so `from` is who really published it
    const from = message.type === 'signed' ? message.from.toString() : undefined
    try {
      const report = decodeJson(message.data, loadReportSchema, MAX_REPORT_BYTES, `load report on ${this.topic}`)
      if (from === undefined || report.plant !== from) throw new AuthError(`load report names plant ${report.plant} but was published by ${from ?? 'nobody'}`)
      this.post({ to: 'broker', type: 'load.report', report, from })
    } catch (err: unknown) {
      this.log('dropped a load report from %s: %s', from, errorMessage(err))
      this.handlers.onDropped?.(`message on ${this.topic}`, from, errorMessage(err))
    }
  }
}

export function loadService (components: LoadComponents, init: LoadInit, handlers: LoadHandlers): LoadService {
  return new Load(components, init, handlers)
}
