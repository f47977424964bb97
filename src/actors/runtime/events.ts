import type { Logger } from '@libp2p/logger'

/** What an actor tells its observers: a domain event of a discriminated union on `type`. */
export interface ActorEvent { type: string }

export type EventListener<E> = (event: E) => void

/**
 * One actor's typed domain events, after js-libp2p's TypedEventEmitter: metrics, logs and tests
 * subscribe by type; the actor emits through its context (`ctx.emit`). Observers only read: a
 * listener sees the event after the actor decided, and cannot change what it does.
 */
export interface ActorEvents<E extends ActorEvent> {
  /** `options.signal`: the listener is removed when it aborts */
  addEventListener<K extends E['type']>(type: K, listener: EventListener<Extract<E, { type: K }>>, options?: { signal?: AbortSignal }): void
  removeEventListener<K extends E['type']>(type: K, listener: EventListener<Extract<E, { type: K }>>): void
}

/** @internal the runtime's side of an actor's events: it dispatches what the actor emits */
export class EventHub<E extends ActorEvent> implements ActorEvents<E> {
  private readonly listeners = new Map<string, Set<EventListener<any>>>()

  constructor (private readonly log: Logger) {}

  addEventListener<K extends E['type']>(type: K, listener: EventListener<Extract<E, { type: K }>>, options: { signal?: AbortSignal } = {}): void {
    if (options.signal?.aborted === true) return
    const set = this.listeners.get(type) ?? new Set()
    set.add(listener)
    this.listeners.set(type, set)
    options.signal?.addEventListener('abort', () => { this.removeEventListener(type, listener) }, { once: true })
  }

  removeEventListener<K extends E['type']>(type: K, listener: EventListener<Extract<E, { type: K }>>): void {
    this.listeners.get(type)?.delete(listener)
  }

  /** a listener that throws is logged: an observer's fault is not the actor's */
  dispatch (event: E): void {
    const set = this.listeners.get(event.type)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(event)
      } catch (err: unknown) {
        this.log.error('a listener of %s threw: %e', event.type, err)
      }
    }
  }
}
