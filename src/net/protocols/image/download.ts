import { createReadStream } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { createHash, type Hash } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import type { Libp2p, PeerId, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { GoldenArtifact } from '../../../planner/index.js'
import { checkMessage, decodeJson, encodeJson } from '../../codec.js'
import { MalformedMessageError, RemoteError } from '../../errors.js'
import { PROTOCOLS } from '../../protocols.js'
import { DigestMismatchError, TransferError } from './errors.js'
import { IMAGE_WIRE_LIMITS, answerFrameSchema, artifactHeaderSchema } from './wire.js'

/** What a download reports as it goes. */
export type DownloadProgress =
  | { type: 'artifact.start', image: string, name: string, offset: number, bytes: number }
  | { type: 'artifact.progress', image: string, name: string, received: number, bytes: number }

export interface DownloadOptions {
  signal?: AbortSignal
  onProgress?: (event: DownloadProgress) => void
}

/** Incoming bytes queued past this pause the stream (yamux then stops granting window)... */
const HIGH_WATER = 2 * 1024 * 1024
/** ...until the queue drains below this. */
const LOW_WATER = 512 * 1024
/** yamux lets a window of up to 16 MiB be in flight when we pause; the stream must hold it rather than reset */
const PAUSED_BUFFER = 24 * 1024 * 1024

/**
 * Fetches one artifact into `path`: bytes go to `<path>.part`, which a later call resumes from
 * (the part's bytes are hashed first, then the rest as it arrives). The whole file's SHA-256 must
 * be the descriptor's, else the part is deleted and DigestMismatchError thrown; only a verified
 * file is renamed into place. A broken transfer throws TransferError and keeps the part.
 */
export async function downloadArtifact (node: Libp2p, peer: PeerId, image: string, artifact: GoldenArtifact, path: string, options: DownloadOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const part = `${path}.part`
  let offset = await stat(part).then((s) => s.size, () => 0)
  if (offset > artifact.bytes) {
    await rm(part, { force: true })
    offset = 0
  }
  const hash = createHash('sha256')
  if (offset > 0) await hashFile(hash, part, options)
  options.onProgress?.({ type: 'artifact.start', image, name: artifact.name, offset, bytes: artifact.bytes })

  if (offset < artifact.bytes) {
    const stream = await node.dialProtocol(peer, PROTOCOLS.image, { signal: options.signal })
    try {
      const lp = lpStream(stream, { maxDataLength: IMAGE_WIRE_LIMITS.maxHeaderBytes })
      await lp.write(encodeJson({ type: 'artifact', id: image, name: artifact.name, offset }), { signal: options.signal })
      const header = readHeader((await lp.read({ signal: options.signal })).subarray(), image, artifact.name, offset, artifact.bytes)
      const file = await open(part, 'a')
      try {
        let received = offset
        await receive(lp.unwrap(), header.bytes - offset, async (chunk) => {
          await file.write(chunk)
          hash.update(chunk)
          received += chunk.byteLength
          options.onProgress?.({ type: 'artifact.progress', image, name: artifact.name, received, bytes: artifact.bytes })
        }, options)
      } finally {
        await file.close()
      }
      await stream.close({ signal: options.signal }).catch(() => {})
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  } else {
    // nothing to receive: a part of full size from an earlier attempt, or an empty artifact
    await (await open(part, 'a')).close()
  }

  const actual = hash.digest('hex')
  if (actual !== artifact.sha256) {
    await rm(part, { force: true })
    throw new DigestMismatchError(image, artifact.name, artifact.sha256, actual)
  }
  await rename(part, path)
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

async function hashFile (hash: Hash, path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  options.signal?.throwIfAborted()
  for await (const chunk of createReadStream(path, { signal: options.signal })) hash.update(chunk as Buffer)
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
