import { setMaxListeners } from 'node:events'
import { logger, type Logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { artifactBytes, type CompiledRequest, type VmSpec } from '../../../planner/index.js'
import type { WarehouseRecord } from '../../../store/index.js'
import type { AbortOptions } from '../../../interface/index.js'
import { PROTOCOLS } from '../../protocols.js'
import { InvalidImagesInitError, ProvideError } from './errors.js'
import { imageKeys } from './keys.js'
import { findProviders, lookupCandidates, searchDeadline, type LookupContext, type RemoteCandidate } from './lookup.js'
import { fetchImage } from './fetch-image.js'
import { imageFetchProgress } from './fetch-steps.js'
import { LinkSpeeds } from './link-speed.js'
import { handleImageStream } from './server.js'
import type { CandidateOptions, FetchBetterOptions, FetchOptions, FetchQuote, RemoteImages, RemoteImagesComponents, RemoteImagesEvent, RemoteImagesInit } from './types.js'

export const REMOTE_IMAGES_DEFAULTS = {
  logPrefix: 'vmplant:images',
  lookupTimeoutMs: 3000,
  maxPeers: 4,
  prefixProbes: 4,
  cacheMs: 30_000,
  maxFetchAttempts: 3,
  provideConcurrency: 4,
  maxInboundStreams: 16
} as const

type Settings = Required<RemoteImagesInit>

export function validateRemoteImagesInit (init: RemoteImagesInit): Settings {
  const settings: Settings = { ...REMOTE_IMAGES_DEFAULTS, now: Date.now, ...stripUndefined(init) }
  if (typeof settings.dir !== 'string' || settings.dir === '') throw new InvalidImagesInitError('dir', 'must be a folder')
  if (!Number.isInteger(settings.cacheMs) || settings.cacheMs < 0) throw new InvalidImagesInitError('cacheMs', `must be an integer of 0 or more, not ${String(settings.cacheMs)}`)
  for (const key of ['lookupTimeoutMs', 'maxPeers', 'prefixProbes', 'maxFetchAttempts', 'provideConcurrency', 'maxInboundStreams'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) throw new InvalidImagesInitError(key, `must be a positive integer, not ${String(settings[key])}`)
  }
  return settings
}

/** The RemoteImages component; see its interface in index.ts. */
export class RemoteImagesService implements RemoteImages {
  private readonly log: Logger
  private readonly lookup: LookupContext
  private readonly listeners = new Set<(event: RemoteImagesEvent) => void>()
  private readonly inflight = new Map<string, Promise<WarehouseRecord>>()
  private readonly speeds = new LinkSpeeds()
  /** keys (CID strings) that reached at least one DHT peer this run; kad-dht re-provides them */
  private readonly provided = new Set<string>()
  /** prefix key -> ids of the images held under it, as of the last `provide` */
  private under = new Map<string, string[]>()
  /** every key of the warehouse's images, as of the last `provide` */
  private keys = new Map<string, CID>()
  /** an image's keys never change (its id is its content hash), so they are worked out once */
  private readonly keysOf = new Map<string, ReturnType<typeof imageKeys>>()
  private controller?: AbortController
  /** the pass running now, and the one queued behind it (shared by everyone who asks meanwhile) */
  private current: Promise<void> = Promise.resolve()
  private queued?: Promise<void>

  constructor (private readonly components: RemoteImagesComponents, private readonly settings: Settings) {
    this.log = logger(settings.logPrefix)
    const { lookupTimeoutMs, maxPeers, prefixProbes, cacheMs } = settings
    this.lookup = { libp2p: components.libp2p, log: this.log, lookupTimeoutMs, maxPeers, prefixProbes, cacheMs, cache: new Map() }
  }

  async start (): Promise<void> {
    if (this.controller !== undefined) return
    const controller = this.controller = new AbortController()
    // every DHT provide and transfer listens to it
    setMaxListeners(Infinity, controller.signal)
    const catalog = { get: async (id: string) => await this.components.warehouse.get(id), under: (key: string) => this.under.get(key) ?? [] }
    await this.components.libp2p.handle(PROTOCOLS.image, async (stream, connection) => {
      await handleImageStream(stream, connection, { catalog, log: this.log, signal: controller.signal })
    }, { maxInboundStreams: this.settings.maxInboundStreams, runOnLimitedConnection: false })
    this.announce()
  }

  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    controller.abort(new Error('the image component stopped'))
    await this.components.libp2p.unhandle(PROTOCOLS.image).catch(() => {})
    await this.current.catch(() => {})
  }

  async provide (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const signal = this.controller?.signal
    if (signal === undefined) throw new ProvideError('the image component is not started')
    // the served index follows the warehouse at once; the DHT announcements follow in turn
    await this.reindex(options)
    let pass = this.queued
    if (pass === undefined) {
      const queued: Promise<void> = this.current.catch(() => {}).then(async () => {
        if (this.queued === queued) this.queued = undefined
        await this.providePass({ signal })
      })
      pass = this.queued = this.current = queued
    }
    await raceSignal(pass, options.signal)
  }

  announce (): void {
    if (this.controller === undefined) return
    this.provide().catch((err) => {
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
    return (await findProviders(this.lookup, CID.parse(id), { signal: options.signal, deadline: searchDeadline(this.lookup, options) })).map((p) => p.id.toString())
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
    } catch (err) {
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
    } catch (err) {
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
        await this.components.warehouse.put(record)
        this.log('fetched image %s (saves %d actions) from %s', record.id, candidate.saves, candidate.peer)
        this.announce()
        return record
      } catch (err) {
        options.signal?.throwIfAborted()
        this.log.error('fetching image %s from %s failed, going on without it: %e', candidate.id, candidate.peer, err)
      } finally {
        unlisten?.()
      }
    }
    return undefined
  }

  onEvent (listener: (event: RemoteImagesEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  private emit (event: RemoteImagesEvent): void {
    for (const listener of this.listeners) {
      try { listener(event) } catch (err) { this.log.error('an image event listener threw: %e', err) }
    }
  }

  private async fetchOnce (candidate: Pick<RemoteCandidate, 'peer' | 'id'>, options: FetchOptions): Promise<WarehouseRecord> {
    const signal = AbortSignal.any([this.controller?.signal ?? AbortSignal.abort(new Error('the image component is not started')), ...(options.signal !== undefined ? [options.signal] : [])])
    const context = { libp2p: this.components.libp2p, dir: this.settings.dir, importers: this.components.importers ?? [], speeds: this.speeds, now: this.settings.now }
    return await fetchImage(context, candidate, {
      signal,
      onProgress: (event) => {
        options.onProgress?.(event)
        const received = event.type === 'artifact.start' ? event.offset : event.received
        this.emit({ type: 'image.progress', id: candidate.id, peer: candidate.peer, artifact: event.name, received, bytes: event.bytes })
      }
    })
  }

  /** Rebuilds the served index and the set of keys from the warehouse. */
  private async reindex (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const under = new Map<string, string[]>()
    const keys = new Map<string, CID>()
    for (const record of await this.components.warehouse.list()) {
      let known = this.keysOf.get(record.id)
      if (known === undefined) this.keysOf.set(record.id, known = imageKeys(record.descriptor))
      keys.set(known.image.toString(), known.image)
      for (const key of known.prefixes) {
        const name = key.toString()
        keys.set(name, key)
        under.set(name, [...(under.get(name) ?? []), record.id])
      }
    }
    this.under = under
    this.keys = keys
  }

  /** Provides the keys not yet provided, a few at a time. */
  private async providePass (options: { signal: AbortSignal }): Promise<void> {
    const { signal } = options
    signal.throwIfAborted()
    const todo = [...this.keys].filter(([name]) => !this.provided.has(name))
    const failed: string[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const [name, key] = todo[next++] as [string, CID]
        if (await this.provideKey(key, { signal })) this.provided.add(name)
        else failed.push(name)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.settings.provideConcurrency, todo.length) }, worker))
    signal.throwIfAborted()
    this.log('provided %d new keys; %d keys in all', todo.length - failed.length, this.keys.size)
    if (failed.length > 0) throw new ProvideError(`${failed.length} of ${todo.length} image keys reached no DHT peer: ${failed.slice(0, 3).join(', ')}${failed.length > 3 ? ', ...' : ''}`)
  }

  /** Whether the provider record reached at least one peer. */
  private async provideKey (key: CID, options: { signal: AbortSignal }): Promise<boolean> {
    const { signal } = options
    signal.throwIfAborted()
    let reached = 0
    try {
      for await (const event of this.components.libp2p.services.dht.provide(key, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') reached++
      }
    } catch (err) {
      signal.throwIfAborted()
      this.log('providing %s failed: %s', key, (err as Error)?.message)
    }
    return reached > 0
  }
}

async function raceSignal<T> (promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

function stripUndefined<T extends object> (value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
