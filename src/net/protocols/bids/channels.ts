import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Logger } from '@libp2p/logger'
import type { Connection, Stream } from '@libp2p/interface'
import type { z } from 'zod'
import { errorMessage, type AbortOptions, type PeerRef } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { decodeJson, encodeJson } from '../../codec.js'
import { DEFAULT_DIAL_TIMEOUT_MS, OPEN_STREAM_TIMEOUT_MS } from '../../rpc.js'
import { peerTarget } from '../target.js'

/**
 * Bidding's answers stream: one long-lived stream from a bidder to each caller it answers, each
 * frame one length-prefixed JSON message, nothing sent back. A stream is noise's, so its remote
 * peer is the sender of every frame on it: a frame needs no signature of its own (a gossipsub
 * message's Ed25519 signature cost the sender a signing and every receiver a check, per message),
 * and no new stream per message (a negotiation each).
 */
export const ANSWERS_PROTOCOL = '/vmplant/answers/1.0.0'

/** how long closing a stream at stop may take */
export const CLOSE_TIMEOUT_MS = 1000

/** how long a write may wait for a peer that reads nothing (its stream's buffer full) */
export const WRITE_TIMEOUT_MS = 30_000

/**
 * streams of one protocol a connection may hold open towards this node: a peer needs one, and a
 * few more while the ones it reopened after a failure are still being torn down here
 */
export const MAX_CHANNEL_STREAMS = 16

/** The receiving edge: every frame, decoded and bound to the stream's remote peer, is handed to `onFrame`; a bad one to `onBad`. */
export async function serveFrames<S extends z.ZodType> (libp2p: VmplantLibp2p, protocol: string, schema: S, maxBytes: number, onFrame: (message: z.output<S>, from: string) => void, onBad: (from: string, reason: string) => void): Promise<void> {
  await libp2p.handle(protocol, async (stream: Stream, connection: Connection) => {
    const from = connection.remotePeer.toString()
    const lp = lpStream(stream, { maxDataLength: maxBytes })
    for (;;) {
      let frame
      try {
        frame = await lp.read()
      } catch (err: unknown) {
        // the sender closed the stream (it opens another when it next sends), or sent an oversized frame
        if (!(err instanceof Error && err.name === 'UnexpectedEOFError') && stream.status === 'open') onBad(from, errorMessage(err))
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        return
      }
      try {
        onFrame(decodeJson(frame.subarray(), schema, maxBytes, `message on ${protocol}`), from)
      } catch (err: unknown) {
        onBad(from, errorMessage(err))
      }
    }
  }, { maxInboundStreams: MAX_CHANNEL_STREAMS })
}

/** an open stream; `lp` writes on `stream` */
interface Channel { stream: Stream, lp: LengthPrefixedStream<Stream> }

/** the messages for one peer gathered in this turn of the event loop */
interface Batch { to: PeerRef, frames: Uint8Array[], written: Promise<void>, resolve: () => void, reject: (err: unknown) => void }

/**
 * The sending side: a stream per peer, opened on the first message and kept while it lasts.
 * Messages to one peer within one turn of the event loop go out together, as one write: a plant
 * answering many calls at once pays for a socket write (and a yamux frame and a noise
 * encryption) per batch rather than per message.
 */
export class FrameChannels {
  private readonly open = new Map<string, Promise<Channel>>()
  private readonly batches = new Map<string, Batch>()

  constructor (private readonly libp2p: VmplantLibp2p, private readonly protocol: string, private readonly log: Logger) {}

  /** sends `message` to `to`; resolves once its batch is written */
  async send (to: PeerRef, message: unknown, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const bytes = encodeJson(message)
    let batch = this.batches.get(to.peer)
    if (batch === undefined) {
      let resolve = (): void => {}
      let reject = (_err: unknown): void => {}
      const written = new Promise<void>((resolved, rejected) => { resolve = resolved; reject = rejected })
      const created: Batch = { to, frames: [], written, resolve, reject }
      this.batches.set(to.peer, created)
      setImmediate(() => { void this.flush(created) })
      batch = created
    }
    batch.frames.push(bytes)
    await batch.written
  }

  private async flush (batch: Batch): Promise<void> {
    if (this.batches.get(batch.to.peer) === batch) this.batches.delete(batch.to.peer)
    try {
      await this.write(batch.to, batch.frames)
      batch.resolve()
    } catch (err) {
      batch.reject(err)
    }
  }

  /** a stream that broke since its last write is opened again, once */
  private async write (to: PeerRef, frames: Uint8Array[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const opening = this.channel(to)
      try {
        const { lp } = await opening
        await lp.writeV(frames, { signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) })
        return
      } catch (err) {
        if (this.open.get(to.peer) === opening) this.open.delete(to.peer)
        if (attempt > 0) throw err
        this.log('%s stream to %s failed, opening another: %s', this.protocol, to.peer, (err as Error)?.message)
      }
    }
  }

  /** closes every stream */
  async close (): Promise<void> {
    const channels = [...this.open.values()]
    this.open.clear()
    await Promise.all(channels.map(async (c) => {
      await c.then(async ({ stream }) => {
        // a peer that no longer reads would hold the close: it gets a second, then the stream is aborted
        await stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch((err: Error) => { stream.abort(err) })
      }, () => {})
    }))
  }

  private channel (to: PeerRef): Promise<Channel> {
    let opening = this.open.get(to.peer)
    if (opening === undefined) {
      opening = this.openStream(to)
      this.open.set(to.peer, opening)
      // a stream that closes (its connection went, or the peer aborted it) is forgotten
      const current = opening
      opening.then(({ stream }) => {
        stream.addEventListener('close', () => { if (this.open.get(to.peer) === current) this.open.delete(to.peer) }, { once: true })
      }, () => {})
    }
    return opening
  }

  /**
   * One peer's stream; it is shared by every message, so it is bounded by deadlines of its own
   * rather than one message's: rpc's, a dial's and a stream's. A caller busy with a load of
   * creates may take seconds to take a new stream, and an answer given up on is a lost bid.
   */
  private async openStream (to: PeerRef): Promise<Channel> {
    const connection = await this.libp2p.dial(peerTarget(this.libp2p, to), { signal: AbortSignal.timeout(DEFAULT_DIAL_TIMEOUT_MS) })
    const stream = await connection.newStream(this.protocol, { signal: AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS) })
    return { stream, lp: lpStream(stream) }
  }
}
