import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { AbortOptions, ArtifactRequest } from '../../../interface/index.js'
import { checkMessage, decodeJson, encodeJson } from '../../codec.js'
import { MalformedMessageError, RemoteError } from '../../errors.js'
import { PROTOCOLS } from '../../protocols.js'
import { TransferError } from './errors.js'
import { IMAGE_WIRE_LIMITS, answerFrameSchema, artifactHeaderSchema } from './wire.js'

/** Incoming bytes queued past this pause the stream (yamux then stops granting window)... */
const HIGH_WATER = 2 * 1024 * 1024
/** ...until the queue drains below this. */
const LOW_WATER = 512 * 1024
/** yamux lets a window of up to 16 MiB be in flight when we pause; the stream must hold it rather than reset */
const PAUSED_BUFFER = 24 * 1024 * 1024

/**
 * One artifact's bytes from the holder: asks for `request.name` of image `request.id` from
 * `request.offset`, checks the header frame against the request, then hands the raw bytes that
 * follow to `sink` as they arrive. A broken transfer, or one that does not keep to its header,
 * throws TransferError; what the sink did with the bytes (a `.part` file) is the caller's.
 */
export async function downloadBytes (node: Libp2p, peer: PeerId, request: ArtifactRequest, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const { id, name, offset, bytes } = request
  const stream = await node.dialProtocol(peer, PROTOCOLS.image, { signal: options.signal })
  try {
    const lp = lpStream(stream, { maxDataLength: IMAGE_WIRE_LIMITS.maxHeaderBytes })
    await lp.write(encodeJson({ type: 'artifact', id, name, offset }), { signal: options.signal })
    const header = readHeader((await lp.read({ signal: options.signal })).subarray(), id, name, offset, bytes)
    await receive(lp.unwrap(), header.bytes - offset, sink, options)
    await stream.close({ signal: options.signal }).catch(() => {})
  } catch (err: unknown) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

/** The artifact header frame that precedes the raw bytes, checked against what was asked for. */
export function readHeader (bytes: Uint8Array, image: string, name: string, offset: number, size: number): { bytes: number } {
  const frame = decodeJson(bytes, answerFrameSchema, IMAGE_WIRE_LIMITS.maxHeaderBytes, `${PROTOCOLS.image} artifact header`)
  if (!frame.ok) throw new RemoteError(frame.error.code, frame.error.message)
  const header = checkMessage(frame.value, artifactHeaderSchema, `${PROTOCOLS.image} artifact header`)
  if (header.id !== image || header.name !== name || header.offset !== offset || header.bytes !== size) {
    throw new MalformedMessageError(`${PROTOCOLS.image} header announces ${header.id}/${header.name} at ${header.offset} of ${header.bytes} bytes, not ${image}/${name} at ${offset} of ${size}`)
  }
  return header
}

/**
 * Hands exactly `length` raw bytes from the stream to `sink`, one chunk at a time, pausing the
 * stream while the sink (the disk) is behind so that memory stays bounded.
 */
async function receive (stream: Stream, length: number, sink: (chunk: Uint8Array) => Promise<void>, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options
  signal?.throwIfAborted()
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, PAUSED_BUFFER)
  const queue: Uint8Array[] = []
  let queued = 0
  let paused = false
  /** undefined while the remote may still send; null when it ended cleanly */
  let ended: Error | null | undefined
  let wake: (() => void) | undefined
  const onMessage = (event: StreamMessageEvent): void => {
    const data = event.data
    for (const buf of data instanceof Uint8Array ? [data] : data) queue.push(buf)
    queued += data.byteLength
    wake?.()
  }
  const onEnd = (): void => { ended ??= null; wake?.() }
  const onClose = (event: StreamCloseEvent): void => { ended ??= event.error ?? null; wake?.() }
  const onAbort = (): void => { wake?.() }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('remoteCloseWrite', onEnd)
  stream.addEventListener('close', onClose)
  signal?.addEventListener('abort', onAbort)
  let received = 0
  try {
    while (received < length) {
      signal?.throwIfAborted()
      // paused here, not in the message handler: one that runs inside resume() (which hands over the
      // buffer first) would pause before yamux re-opens the window at the end of resume(), and the
      // window would then stay open
      if (!paused && queued > HIGH_WATER && stream.readStatus === 'readable') { paused = true; stream.pause() }
      const chunk = queue.shift()
      if (chunk === undefined) {
        // resume() hands over what the stream buffered at once, so look at the queue again
        if (paused) { paused = false; resume(stream); continue }
        if (ended !== undefined && stream.readBufferLength === 0) {
          throw new TransferError(`the peer stopped after ${received} of ${length} bytes${ended !== null ? `: ${ended.message}` : ''}`, { cause: ended ?? undefined })
        }
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
        continue
      }
      queued -= chunk.byteLength
      if (received + chunk.byteLength > length) throw new TransferError(`the peer sent more than the ${length} bytes it announced`)
      received += chunk.byteLength
      await sink(chunk)
      if (paused && queued < LOW_WATER) { paused = false; resume(stream) }
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('remoteCloseWrite', onEnd)
    stream.removeEventListener('close', onClose)
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * Resumes a stream this side paused. The stream closes its readable end by itself once the remote
 * has ended and the buffer was handed over, which can happen while it is paused (in the message
 * handler that paused it): then there is nothing left to resume.
 */
function resume (stream: Stream): void {
  if (stream.readStatus === 'paused') stream.resume()
}
