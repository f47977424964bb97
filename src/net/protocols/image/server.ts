import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import type { ServedImages, WarehouseRecord } from '../../../interface/index.js'
import { decodeJson, encodeJson } from '../../codec.js'
import { MalformedMessageError } from '../../errors.js'
import { PROTOCOLS } from '../../protocols.js'
import { readFrame } from '../../rpc.js'
import { ImageNotHeldError } from './errors.js'
import { IMAGE_WIRE_LIMITS, imageRequestSchema, type ArtifactHeader, type DescriptorAnswer, type ImagesAnswer } from './wire.js'

export interface ServerContext {
  catalog: ServedImages
  log: Logger
  /** aborted when the component stops: ends transfers under way */
  signal: AbortSignal
  /** @default 10000 */
  requestTimeoutMs?: number
}

/**
 * Answers one request on a stream of `/vmplant/image/1.0.0`. `descriptor` and `images` get one
 * JSON frame; `artifact` gets a header frame and then the file's raw bytes from the offset,
 * read from disk as it goes, so an artifact of any size costs a few chunks of memory. Only
 * files named in the descriptor of an image the warehouse holds are ever opened.
 */
export async function handleImageStream (stream: Stream, connection: Connection, context: ServerContext): Promise<void> {
  const { log } = context
  const requestSignal = AbortSignal.any([context.signal, AbortSignal.timeout(context.requestTimeoutMs ?? 10_000)])
  const lp = lpStream(stream, { maxDataLength: IMAGE_WIRE_LIMITS.maxRequestBytes })
  try {
    const frame = await readFrame(lp, 'request', IMAGE_WIRE_LIMITS.maxRequestBytes, { signal: requestSignal })
    const request = decodeJson(frame.subarray(), imageRequestSchema, IMAGE_WIRE_LIMITS.maxRequestBytes, `${PROTOCOLS.image} request`)
    switch (request.type) {
      case 'descriptor': {
        const record = await held(context.catalog, request.id)
        const value: DescriptorAnswer = { descriptor: record.descriptor, files: filesOf(record) }
        await lp.write(encodeJson({ ok: true, value }), { signal: requestSignal })
        break
      }
      case 'images': {
        const records: WarehouseRecord[] = []
        for (const id of context.catalog.under(request.key)) {
          const record = await context.catalog.get(id)
          if (record !== undefined) records.push(record)
        }
        records.sort((a, b) => b.descriptor.applied.length - a.descriptor.applied.length || (a.id < b.id ? -1 : 1))
        const value: ImagesAnswer = { images: records.slice(0, IMAGE_WIRE_LIMITS.maxImagesPerAnswer).map((r) => ({ id: r.id, descriptor: r.descriptor })) }
        await lp.write(encodeJson({ ok: true, value }), { signal: requestSignal })
        break
      }
      case 'artifact': {
        const record = await held(context.catalog, request.id)
        const artifact = record.descriptor.artifacts.find((a) => a.name === request.name)
        if (artifact === undefined) throw new ImageNotHeldError(`image ${request.id} has no artifact named ${request.name}`)
        const path = join(record.golden.dir, filesOf(record)[artifact.name] as string)
        const size = (await stat(path).catch((err) => { throw new ImageNotHeldError(`artifact ${artifact.name} of image ${request.id} is not on disk here`, { cause: err }) })).size
        if (size !== artifact.bytes) throw new ImageNotHeldError(`artifact ${artifact.name} of image ${request.id} is ${size} bytes on disk, its descriptor says ${artifact.bytes}`)
        if (request.offset > artifact.bytes) throw new MalformedMessageError(`offset ${request.offset} is past the end of artifact ${artifact.name} (${artifact.bytes} bytes)`)
        const header: ArtifactHeader = { id: request.id, name: artifact.name, offset: request.offset, bytes: artifact.bytes }
        await lp.write(encodeJson({ ok: true, value: header }), { signal: requestSignal })
        const sent = await sendFile(lp.unwrap(), path, request.offset, { signal: context.signal })
        log('sent %d bytes of %s/%s to %p from offset %d', sent, request.id, artifact.name, connection.remotePeer, request.offset)
        return
      }
      default: {
        const unknown: never = request
        throw new MalformedMessageError(`unknown request ${(unknown as { type: string }).type}`)
      }
    }
    await stream.close({ signal: requestSignal })
  } catch (err: unknown) {
    const error = err instanceof Error ? err : new Error(String(err))
    log('%s request from %p failed: %s', PROTOCOLS.image, connection.remotePeer, error.message)
    try {
      await lp.write(encodeJson({ ok: false, error: { code: error.name, message: error.message.slice(0, 10_000) } }), { signal: requestSignal })
      await stream.close({ signal: requestSignal })
    } catch (writeErr) {
      // the header may already be out (then the requester sees a short transfer), or the stream is gone
      stream.abort(writeErr instanceof Error ? writeErr : new Error(String(writeErr)))
    }
  }
}

async function held (catalog: ServedImages, id: string): Promise<WarehouseRecord> {
  const record = await catalog.get(id)
  if (record === undefined) throw new ImageNotHeldError(`image ${id} is not held here`)
  return record
}

/**
 * Each artifact's file name under the image's folder. The line's own name is kept when it is a
 * plain file name; anything else (a path) falls back to the artifact's name, so no request can
 * reach outside the image's folder.
 */
export function filesOf (record: WarehouseRecord): Record<string, string> {
  const files: Record<string, string> = {}
  for (const artifact of record.descriptor.artifacts) {
    const file = record.golden.artifacts[artifact.name]
    files[artifact.name] = file !== undefined && basename(file) === file && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file) ? file : artifact.name
  }
  return files
}

/** Writes the file from `offset` to the end, waiting for the stream to drain; returns the bytes sent. */
async function sendFile (stream: Stream, path: string, offset: number, options: { signal: AbortSignal }): Promise<number> {
  const { signal } = options
  signal.throwIfAborted()
  let sent = 0
  for await (const chunk of createReadStream(path, { start: offset, highWaterMark: IMAGE_WIRE_LIMITS.chunkBytes, signal })) {
    if (!stream.send(chunk as Buffer)) await stream.onDrain({ signal })
    sent += (chunk as Buffer).byteLength
  }
  await stream.close({ signal })
  return sent
}
