import { LengthPrefixedDecoder } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { TapPort } from './tap.js'
import { VnetFrameError } from './errors.js'
import { MAX_FRAME_BYTES, MIN_FRAME_BYTES } from './wire.js'
import { errorMessage } from '../../../interface/index.js'

/** What one stream carried, for logs and tests. */
export interface PumpStats {
  framesIn: number
  framesOut: number
  /** frames from the tap dropped because the stream's send buffer was full (Ethernet drops too) */
  dropped: number
}

export interface PumpInit {
  /** @default MAX_FRAME_BYTES */
  maxFrameBytes?: number
  /** frames from the tap are dropped while more than this waits to be sent; @default 1 MiB */
  maxQueuedBytes?: number
}

/**
 * Moves frames between a tap and a tunnel's stream until the stream ends: each frame is a
 * varint length and the frame. The frames a tap gives in one turn of the event loop go out in one
 * send, so a burst costs one yamux frame and one noise record, not one per Ethernet frame.
 * Resolves with why the stream ended (undefined: closed cleanly).
 */
export function pump (port: TapPort, stream: Stream, init: PumpInit = {}): { done: Promise<Error | undefined>, stats: PumpStats } {
  const maxFrameBytes = init.maxFrameBytes ?? MAX_FRAME_BYTES
  const maxQueuedBytes = init.maxQueuedBytes ?? 1024 * 1024
  const stats: PumpStats = { framesIn: 0, framesOut: 0, dropped: 0 }
  const decoder = new LengthPrefixedDecoder({ maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + 16 + 4 * 1024 * 1024 })
  let batch: Uint8Array[] = []
  let batchBytes = 0
  let scheduled = false

  const flush = (): void => {
    scheduled = false
    if (batchBytes === 0 || stream.writeStatus !== 'writable') return
    const out = Buffer.concat(batch, batchBytes)
    batch = []
    batchBytes = 0
    try {
      stream.send(out)
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
  const fromTap = (frame: Uint8Array): void => {
    if (stream.writeStatus !== 'writable') return
    if (stream.writeBufferLength + batchBytes > maxQueuedBytes) {
      stats.dropped++
      return
    }
    const prefix = lengthPrefix(frame.byteLength)
    batch.push(prefix, frame)
    batchBytes += prefix.byteLength + frame.byteLength
    stats.framesOut++
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
  const fromStream = (event: { data: Parameters<LengthPrefixedDecoder['decode']>[0] }): void => {
    try {
      for (const frame of decoder.decode(event.data)) {
        if (frame.byteLength < MIN_FRAME_BYTES) continue
        stats.framesIn++
        port.send(frame.subarray())
      }
    } catch (err: unknown) {
      stream.abort(new VnetFrameError(`the peer sent a frame over ${maxFrameBytes} bytes or a bad length prefix: ${errorMessage(err)}`, { cause: err }))
    }
  }

  const unlisten = port.listen(fromTap)
  stream.addEventListener('message', fromStream)
  const done = new Promise<Error | undefined>((resolve) => {
    const finish = (reason: Error | undefined): void => {
      unlisten()
      stream.removeEventListener('message', fromStream)
      resolve(reason)
    }
    if (stream.status !== 'open') {
      finish(new Error(`stream is ${stream.status}`))
      return
    }
    stream.addEventListener('close', (event) => { finish(event.error) }, { once: true })
    port.closed.then((reason) => {
      if (stream.status === 'open') stream.abort(reason ?? new Error(`tap ${port.name} closed`))
    }, () => {})
  })
  return { done, stats }
}

/** an unsigned varint, as @libp2p/utils' length-prefixed decoder reads it */
function lengthPrefix (length: number): Uint8Array {
  const bytes: number[] = []
  let rest = length
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80)
    rest >>>= 7
  }
  bytes.push(rest)
  return Uint8Array.from(bytes)
}
