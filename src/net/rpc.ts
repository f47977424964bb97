import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { z } from 'zod'
import type { AbortOptions, Libp2p, PeerId, Stream, Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { logger } from '@libp2p/logger'
import { checkMessage, decodeJson, encodeJson } from './codec.js'
import { MalformedMessageError, RemoteError, RemoteGoneError } from './errors.js'
import { BusyError, errorMessage, wireError } from '../interface/errors.js'
import { DEFAULT_MAX_INBOUND_STREAMS, MAX_STREAMS_PER_CONNECTION as LIBP2P_STREAM_LIMIT } from './limits.js'

const log = logger('vmplant:net:rpc')

/** a peer that cannot be found or reached in this time is reported as such, rather than waited for */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/** how long a connected peer may take to take a new stream (a peer frozen for longer is given up on) */
export const OPEN_STREAM_TIMEOUT_MS = 60_000

/** @default 1 MiB: a spec with 256 actions of 64 KiB scripts would not fit, which is the point */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024

const answerSchemas = [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string().max(100), message: z.string().max(10_000) }) })
] as const
const responseSchema = z.union(answerSchemas)
/** what a caller reads: progress frames (any number, up to MAX_PROGRESS_FRAMES) and then the answer */
const frameSchema = z.union([...answerSchemas, z.object({ progress: z.unknown() })])

/** a long request (a create) may report its steps; a peer sending more than this is refused */
export const MAX_PROGRESS_FRAMES = 10_000

export interface RequestContext {
  remotePeer: PeerId
  connection: Connection
  signal: AbortSignal
  /**
   * Sends a progress frame to the caller ahead of the answer, in order, without waiting; one
   * that cannot be sent is logged and the rest dropped (the answer still goes).
   */
  progress: (value: unknown) => void
}

export interface ServeOptions {
  /** @default DEFAULT_MAX_MESSAGE_BYTES */
  maxBytes?: number
  /** how long a request may take before the stream is dropped; @default 120000 */
  timeoutMs?: number
  /** requests in flight per connection before more are answered with a BusyError; @default DEFAULT_MAX_INBOUND_STREAMS */
  maxInboundStreams?: number
}

/**
 * Answers one request per stream on `protocol`: a length-prefixed JSON frame in, one out.
 * A bad request gets an error frame naming what is wrong; the node carries on.
 */
export async function serve<S extends z.ZodType, R> (
  node: Libp2p,
  protocol: string,
  schema: S,
  handler: (request: z.output<S>, context: RequestContext) => Promise<R>,
  options: ServeOptions = {}
): Promise<void> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const limit = options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS
  /** requests being handled, by connection id */
  const inFlight = new Map<string, number>()
  await node.handle(protocol, async (stream: Stream, connection: Connection) => {
    // a caller that goes (its stream reset, its connection closed) is no longer waited on: the
    // handler's signal aborts, and the actor behind it can drop the work it was asked for
    const gone = new AbortController()
    const onClose = (): void => { gone.abort(new RemoteGoneError(`${connection.remotePeer.toString()} closed its ${protocol} stream before the answer`)) }
    stream.addEventListener('close', onClose, { once: true })
    const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 120_000), gone.signal])
    const lp = lpStream(stream, { maxDataLength: maxBytes })
    const running = inFlight.get(connection.id) ?? 0
    const admitted = running < limit
    if (admitted) inFlight.set(connection.id, running + 1)
    let response: unknown
    const progress = progressFrames(lp, signal, (err) => { log('%s could not send progress to %p: %e', protocol, connection.remotePeer, err) })
    try {
      const frame = await lp.read({ signal })
      if (!admitted) throw new BusyError(`${connection.remotePeer.toString()} has ${running} requests in flight on ${protocol}, the limit for one connection`)
      const request = decodeJson(frame.subarray(), schema, maxBytes, `${protocol} request`)
      response = { ok: true, value: await handler(request, { remotePeer: connection.remotePeer, connection, signal, progress: progress.send }) }
    } catch (err: unknown) {
      log('%s request from %p failed: %s', protocol, connection.remotePeer, errorMessage(err))
      response = { ok: false, error: describeError(err, maxBytes) }
    } finally {
      progress.close()
      if (admitted) {
        const left = (inFlight.get(connection.id) ?? 1) - 1
        if (left > 0) inFlight.set(connection.id, left)
        else inFlight.delete(connection.id)
      }
    }
    try {
      await progress.sent()
      await lp.write(encodeJson(response), { signal })
      await stream.close({ signal })
    } catch (err) {
      log('%s could not answer %p: %e', protocol, connection.remotePeer, err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      stream.removeEventListener('close', onClose)
    }
  }, { maxInboundStreams: Math.max(limit, LIBP2P_STREAM_LIMIT), maxOutboundStreams: LIBP2P_STREAM_LIMIT, runOnLimitedConnection: false })
}

/**
 * A request's progress frames, written one after another on `lp` without the handler waiting:
 * taken until `close()` (the handler returned), and dropped after a write fails. `sent()` waits
 * for those taken, so that the answer comes after them.
 */
function progressFrames (lp: LengthPrefixedStream, signal: AbortSignal, onError: (err: unknown) => void): { send: (value: unknown) => void, close: () => void, sent: () => Promise<void> } {
  let sending: Promise<void> = Promise.resolve()
  let open = true
  let failed = false
  return {
    send: (value) => {
      if (!open) return
      sending = sending.then(async () => { if (!failed) await lp.write(encodeJson({ progress: value }), { signal }) }).catch((err) => {
        failed = true
        onError(err)
      })
    },
    close: () => { open = false },
    sent: async () => { await sending }
  }
}

/** lpStream's errors for a length prefix over `maxDataLength` (or unreadable): thrown before the body is read */
function isOverLimit (err: unknown): boolean {
  const name = errorName(err)
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError'
}

/** a caught value's `name`, if it has one as text */
function errorName (err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null | undefined)?.name
  return typeof name === 'string' ? name : undefined
}

/** Reads one frame; a length prefix over the limit becomes a MalformedMessageError naming `what`, and costs nothing but that. */
export async function readFrame (lp: LengthPrefixedStream, what: string, maxBytes: number, options: AbortOptions = {}): ReturnType<LengthPrefixedStream['read']> {
  try {
    return await lp.read(options)
  } catch (err: unknown) {
    if (isOverLimit(err)) throw new MalformedMessageError(`${what} is over the limit of ${maxBytes} bytes`, { cause: err })
    throw err
  }
}

function describeError (err: unknown, maxBytes: number): { code: string, message: string } {
  if (isOverLimit(err)) return { code: MalformedMessageError.name, message: `request is over the limit of ${maxBytes} bytes` }
  if (err instanceof RemoteError) return { code: err.code, message: err.message }
  return { code: errorName(err) ?? 'Error', message: errorMessage(err) }
}

export interface CallOptions {
  signal?: AbortSignal
  /** how long finding and connecting to the peer may take, apart from opening the stream and the request; @default 10000 */
  dialTimeoutMs?: number
  /** @default DEFAULT_MAX_MESSAGE_BYTES */
  maxBytes?: number
  /** sees each progress frame the peer sends before its answer, as sent (the caller checks it); without it they are read and dropped */
  onProgress?: (value: unknown) => void
  /**
   * a refusal whose code is the contract's (busy, not found, refused, expired) comes back as its
   * named error (`wireError`), as the actors' side wants it; @default false: every remote error a
   * RemoteError with its code, as the client's side has always had it
   */
  namedErrors?: boolean
}

/** Sends one request on a new stream and returns the decoded answer; a remote error becomes a RemoteError. */
export async function call<S extends z.ZodType> (
  node: Libp2p,
  peer: PeerId | Multiaddr | Multiaddr[],
  protocol: string,
  request: unknown,
  schema: S,
  options: CallOptions = {}
): Promise<z.output<S>> {
  options.signal?.throwIfAborted()
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const dialSignal = AbortSignal.timeout(options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)
  const connection = await node.dial(peer, { signal: options.signal !== undefined ? AbortSignal.any([options.signal, dialSignal]) : dialSignal })
  // A connected peer busy with many requests may take seconds to take a new stream: that is bounded
  // by the caller's deadline, not the dial's. libp2p's own bound (64 streams of a protocol per
  // connection) would fail a shop's 65th order to one plant; the serving side counts its own
  // bound and answers "busy" instead.
  const openSignal = AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS)
  const stream = await connection.newStream(protocol, { signal: options.signal !== undefined ? AbortSignal.any([options.signal, openSignal]) : openSignal, maxOutboundStreams: LIBP2P_STREAM_LIMIT })
  try {
    const lp = lpStream(stream, { maxDataLength: maxBytes })
    await lp.write(encodeJson(request), { signal: options.signal })
    for (let frames = 0; ; frames++) {
      const frame = decodeFrame((await lp.read({ signal: options.signal })).subarray(), schema, maxBytes, protocol)
      if ('progress' in frame) {
        if (frames >= MAX_PROGRESS_FRAMES) throw new MalformedMessageError(`${protocol} response: more than ${MAX_PROGRESS_FRAMES} progress frames`)
        try {
          options.onProgress?.(frame.progress)
        } catch (err) {
          log('%s progress listener failed: %e', protocol, err)
        }
        continue
      }
      await stream.close({ signal: options.signal }).catch(() => {})
      return frame.answer
    }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw options.namedErrors === true ? namedError(err) : err
  }
}

/** A peer's coded refusal as the contract's named error; any other error as it is. */
export function namedError (err: unknown): unknown {
  return err instanceof RemoteError ? wireError(err.code, err.message) ?? err : err
}

/** The caller's side of a response frame: a remote error becomes a RemoteError, a value is checked against `schema`. */
export function decodeResponse<S extends z.ZodType> (frame: Uint8Array, schema: S, maxBytes: number, protocol: string): z.output<S> {
  return answerOf(decodeJson(frame, responseSchema, maxBytes, `${protocol} response`), schema, protocol)
}

/**
 * The caller's side of any frame: a progress frame (its value unchecked: the listener checks it),
 * or the answer as `decodeResponse` gives it.
 */
export function decodeFrame<S extends z.ZodType> (bytes: Uint8Array, schema: S, maxBytes: number, protocol: string): { progress: unknown } | { answer: z.output<S> } {
  const frame = decodeJson(bytes, frameSchema, maxBytes, `${protocol} response`)
  if ('progress' in frame) return { progress: frame.progress }
  return { answer: answerOf(frame, schema, protocol) }
}

function answerOf<S extends z.ZodType> (response: z.output<typeof responseSchema>, schema: S, protocol: string): z.output<S> {
  if (!response.ok) throw new RemoteError(response.error.code, response.error.message)
  return checkMessage(response.value, schema, `${protocol} response`)
}
