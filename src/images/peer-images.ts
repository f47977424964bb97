import { setMaxListeners } from 'node:events'
import { logger, type Logger } from '@libp2p/logger'
import { artifactBytes, type CompiledRequest, type VmSpec } from '../planner/index.js'
import type { AbortOptions, WarehouseRecord } from '../interface/index.js'
import { ProvideError } from './errors.js'
import { ImageAnnouncer } from './announcer.js'
import { findProviders, lookupCandidates, searchDeadline, type LookupContext, type RemoteCandidate } from './lookup.js'
import { fetchImage } from './fetch-image.js'
import { imageFetchProgress } from './fetch-steps.js'
import { LinkSpeeds } from './link-speed.js'
import { raceSignal, type PeerImagesSettings } from './settings.js'
import type { CandidateOptions, FetchBetterOptions, FetchOptions, FetchQuote, PeerImages, PeerImagesComponents, PeerImagesEvent } from './types.js'

/** The PeerImages component; see its interface in types.ts. */
export class PeerImagesService implements PeerImages {
  private readonly log: Logger
  private readonly lookup: LookupContext
  private readonly announcer: ImageAnnouncer
  private readonly listeners = new Set<(event: PeerImagesEvent) => void>()
  private readonly inflight = new Map<string, Promise<WarehouseRecord>>()
  private readonly speeds = new LinkSpeeds()
  private controller?: AbortController

  constructor (private readonly components: PeerImagesComponents, private readonly settings: PeerImagesSettings) {
    this.log = logger(settings.logPrefix)
    const { lookupTimeoutMs, maxPeers, prefixProbes, cacheMs, provideConcurrency } = settings
    this.lookup = { network: components.network, log: this.log, lookupTimeoutMs, maxPeers, prefixProbes, cacheMs, cache: new Map() }
    this.announcer = new ImageAnnouncer({ network: components.network, log: this.log, provideConcurrency })
  }

  async start (): Promise<void> {
    if (this.controller !== undefined) return
    const controller = this.controller = new AbortController()
    // every DHT provide and transfer listens to it
    setMaxListeners(Infinity, controller.signal)
    const served = { get: async (id: string) => await this.components.catalog.get(id), under: (key: string) => this.announcer.under(key) }
    await this.components.network.serve(served, { signal: controller.signal, maxInboundStreams: this.settings.maxInboundStreams })
    this.announce()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    controller.abort(new Error('the image component stopped'))
    await this.components.network.unserve().catch(() => {})
    await this.announcer.settled()
  }

  async provide (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const signal = this.controller?.signal
    if (signal === undefined) throw new ProvideError('the image component is not started')
    // the served index follows the warehouse at once; the DHT announcements follow in turn
    this.announcer.reindex(await this.components.catalog.list(options))
    await raceSignal(this.announcer.pass(signal), options.signal)
  }

  announce (): void {
    if (this.controller === undefined) return
    this.provide().catch((err: unknown) => {
      if (this.controller !== undefined) this.log.error('announcing the warehouse failed: %e', err)
    })
  }

  async candidates (spec: VmSpec | CompiledRequest, lineKind: string, options: CandidateOptions = {}): Promise<RemoteCandidate[]> {
    return await lookupCandidates(this.lookup, spec, lineKind, options.minSaves ?? 0, options)
  }

  async quote (request: VmSpec | CompiledRequest, lineKind: string, options: CandidateOptions = {}): Promise<FetchQuote | undefined> {
    const best = (await this.candidates(request, lineKind, options))[0]
    if (best === undefined) return undefined
    const measured = this.speeds.of(best.peer)
    return { id: best.id, peer: best.peer, saves: best.saves, bytes: artifactBytes(best.descriptor), ...(measured !== undefined ? { measuredBytesPerSecond: measured } : {}) }
  }

  measuredBytesPerSecond (peer?: string): number | undefined {
    return this.speeds.of(peer)
  }

  async holders (id: string, options: AbortOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    return await findProviders(this.lookup, id, { signal: options.signal, deadline: searchDeadline(this.lookup, options) })
  }

  async fetch (candidate: Pick<RemoteCandidate, 'peer' | 'id'>, options: FetchOptions = {}): Promise<WarehouseRecord> {
    options.signal?.throwIfAborted()
    const running = this.inflight.get(candidate.id)
    if (running !== undefined) return await raceSignal(running, options.signal)
    const fetching = this.fetchOnce(candidate, options)
    this.inflight.set(candidate.id, fetching)
    try {
      const record = await fetching
      this.emit({ type: 'image.fetched', id: candidate.id, peer: candidate.peer, record })
      return record
    } catch (err: unknown) {
      this.emit({ type: 'image.failed', id: candidate.id, peer: candidate.peer, error: err instanceof Error ? err : new Error(String(err)) })
      throw err
    } finally {
      this.inflight.delete(candidate.id)
    }
  }

  async fetchBetter (spec: VmSpec, lineKind: string, options: FetchBetterOptions = {}): Promise<WarehouseRecord | undefined> {
    options.signal?.throwIfAborted()
    const minSaves = options.localSaves === undefined ? 0 : options.localSaves + 1
    let candidates: RemoteCandidate[]
    try {
      candidates = await this.candidates(spec, lineKind, { minSaves, signal: options.signal })
    } catch (err: unknown) {
      options.signal?.throwIfAborted()
      this.log.error('looking for images on the DHT failed: %e', err)
      return undefined
    }
    for (const candidate of candidates.slice(0, this.settings.maxFetchAttempts)) {
      // through the events, so that a caller joining a fetch already under way sees it too
      const steps = options.onProgress !== undefined ? imageFetchProgress(options.onProgress) : undefined
      const unlisten = steps !== undefined ? this.onEvent((event) => { if (event.id === candidate.id) steps(event) }) : undefined
      try {
        const record = await this.fetch(candidate, { signal: options.signal })
        await this.components.catalog.put(record)
        this.log('fetched image %s (saves %d actions) from %s', record.id, candidate.saves, candidate.peer)
        this.announce()
        return record
      } catch (err: unknown) {
        options.signal?.throwIfAborted()
        this.log.error('fetching image %s from %s failed, going on without it: %e', candidate.id, candidate.peer, err)
      } finally {
        unlisten?.()
      }
    }
    return undefined
  }

  onEvent (listener: (event: PeerImagesEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private emit (event: PeerImagesEvent): void {
    for (const listener of this.listeners) {
      try { listener(event) } catch (err: unknown) { this.log.error('an image event listener threw: %e', err) }
    }
  }

  private async fetchOnce (candidate: Pick<RemoteCandidate, 'peer' | 'id'>, options: FetchOptions): Promise<WarehouseRecord> {
    const signal = AbortSignal.any([this.controller?.signal ?? AbortSignal.abort(new Error('the image component is not started')), ...(options.signal !== undefined ? [options.signal] : [])])
    const context = { network: this.components.network, dir: this.settings.dir, importers: this.components.importers ?? [], speeds: this.speeds, now: this.settings.now }
    return await fetchImage(context, candidate, {
      signal,
      onProgress: (event) => {
        options.onProgress?.(event)
        const received = event.type === 'artifact.start' ? event.offset : event.received
        this.emit({ type: 'image.progress', id: candidate.id, peer: candidate.peer, artifact: event.name, received, bytes: event.bytes })
      }
    })
  }
}
