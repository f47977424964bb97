import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import type { AbortOptions, ActionResult, GuestAction } from '../index.js'
import { AgentChannel, connectAgentSocket, withDeadline } from './agent-channel.js'
import { GuestAgentError } from './errors.js'
import { decodeHeader, encodeFrame, FRAME_MAGIC, FrameType, HEADER_BYTES, isAgentHeader, MAX_REQUEST_BYTES, runPayload, setMacPayload, type FrameHeader } from './frames.js'

/** How long past an action's own timeout the host waits before it gives up on the agent. */
const GRACE_MS = 10_000
const DEFAULT_ACTION_TIMEOUT_MS = 60_000
/** @default for `maxOutputBytes`: output beyond it fails the action instead of filling the plant's memory */
const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024

/** An action's result with its output as bytes, as the guest wrote them. */
export interface BinaryActionResult extends Omit<ActionResult, 'stdout' | 'stderr'> {
  stdout: Buffer
  stderr: Buffer
}

/**
 * The host side of the framed agent protocol (protocol 2, docs/guest-agent.md) over one byte
 * stream, such as a QEMU virtio-serial chardev socket. One request at a time. A new connection
 * is not in step with the stream (an earlier host may have left in the middle of a reply), so the
 * client first looks for the header of an answer to its own request (magic, then its random id)
 * and from there reads frame by frame, skipping frames of other requests by their length.
 */
export class FramedAgentClient {
  private chunks: Buffer[] = []
  private buffered = 0
  private synced = false
  private queue: Promise<unknown> = Promise.resolve()
  private readonly channel: AgentChannel

  constructor (socket: Socket, private readonly maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES) {
    this.channel = new AgentChannel(socket, (chunk) => {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    })
  }

  get isClosed (): boolean { return this.channel.isClosed }

  /** Resolves once the agent answers; the guest is up and its agent alive. */
  async ping (options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.exclusive(async () => await withDeadline(options.timeoutMs ?? 30_000, options.signal, async (signal) => {
      const id = randomBytes(8)
      this.channel.write(encodeFrame(FrameType.ping, id))
      const pong = await this.nextFrame(id, signal, (header) => header.type === FrameType.pong)
      await this.skip(pong.length, signal)
    }))
  }

  /** Runs the action; stdout and stderr decoded as UTF-8. */
  async run (action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    const result = await this.runBinary(action, options)
    return { ...result, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') }
  }

  /** Runs the action and returns its output byte for byte. */
  async runBinary (action: GuestAction, options: AbortOptions = {}): Promise<BinaryActionResult> {
    options.signal?.throwIfAborted()
    const timeoutMs = action.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS
    const script = Buffer.from(action.run.endsWith('\n') ? action.run : action.run + '\n')
    const payload = runPayload(timeoutMs, script)
    if (payload.length > MAX_REQUEST_BYTES) throw new GuestAgentError(`action ${action.id}: a script of ${script.length} bytes is over the agent's ${MAX_REQUEST_BYTES}`)
    return await this.exclusive(async () => await withDeadline(timeoutMs + GRACE_MS, options.signal, async (signal) => {
      const started = Date.now()
      return await this.request(FrameType.run, payload, signal, started)
    }))
  }

  /** Sets the MAC of a guest interface (SIOCSIFHWADDR in the agent, no process started). */
  async setMac (ifname: string, mac: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const payload = setMacPayload(ifname, mac)
    const result = await this.exclusive(async () => await withDeadline(options.timeoutMs ?? 10_000, options.signal, async (signal) => await this.request(FrameType.setMac, payload, signal, Date.now())))
    if (result.exitCode !== 0) throw new GuestAgentError(result.stderr.toString('utf8').trim() || `setting the MAC of ${ifname} failed (${result.exitCode})`)
  }

  close (): void {
    this.channel.close()
  }

  private async request (type: number, payload: Buffer, signal: AbortSignal, started: number): Promise<BinaryActionResult> {
    const id = randomBytes(8)
    // one write: a host that gives up never leaves the agent waiting for half a request
    this.channel.write(encodeFrame(type, id, payload))
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    for (;;) {
      const header = await this.nextFrame(id, signal, () => true)
      const body = await this.take(header.length, signal)
      if (header.type === FrameType.stdout || header.type === FrameType.stderr) {
        size += body.length
        if (size <= this.maxOutputBytes) (header.type === FrameType.stdout ? out : err).push(body)
        continue
      }
      if (header.type !== FrameType.exit || body.length < 5) throw new GuestAgentError(`unexpected frame of type ${header.type} (${body.length} bytes) in a reply`)
      if (size > this.maxOutputBytes) throw new GuestAgentError(`the action wrote ${size} bytes, over the ${this.maxOutputBytes} the host keeps`)
      return { exitCode: body.readInt32BE(0), timedOut: body[4] === 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err), durationMs: Date.now() - started }
    }
  }

  /**
   * The next frame of request `id` that `accept` takes; frames of other requests are skipped
   * with their payload. The payload of the returned frame is left to read.
   */
  private async nextFrame (id: Buffer, signal: AbortSignal, accept: (header: FrameHeader) => boolean): Promise<FrameHeader> {
    for (;;) {
      if (!this.synced) await this.resync(id, signal)
      const header = decodeHeader(await this.peek(HEADER_BYTES, signal))
      // out of step: look for our own header again
      if (header === undefined || !isAgentHeader(header)) { this.synced = false; continue }
      this.drop(HEADER_BYTES)
      if (header.id.equals(id) && accept(header)) return header
      await this.skip(header.length, signal)
    }
  }

  /** Drops bytes until the stream starts with a header for request `id`. */
  private async resync (id: Buffer, signal: AbortSignal): Promise<void> {
    for (;;) {
      const all = this.flatten()
      for (let at = all.indexOf(FRAME_MAGIC); at >= 0 && all.length - at >= 16; at = all.indexOf(FRAME_MAGIC, at + 1)) {
        if (all.subarray(at + 8, at + 16).equals(id)) { this.drop(at); this.synced = true; return }
      }
      // no header of ours starts before the last 15 bytes, which may hold the start of one
      if (this.buffered > 15) this.drop(this.buffered - 15)
      await this.channel.waitForData(signal)
    }
  }

  private flatten (): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0] ?? Buffer.alloc(0)
  }

  /** The first n buffered bytes as one buffer, merging only the chunks that hold them. */
  private prefix (n: number): Buffer {
    let count = 0
    let bytes = 0
    while (bytes < n) bytes += (this.chunks[count++] as Buffer).length
    if (count > 1) this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), bytes))
    return (this.chunks[0] as Buffer).subarray(0, n)
  }

  private async peek (n: number, signal: AbortSignal): Promise<Buffer> {
    while (this.buffered < n) await this.channel.waitForData(signal)
    return this.prefix(n)
  }

  private async take (n: number, signal: AbortSignal): Promise<Buffer> {
    while (this.buffered < n) await this.channel.waitForData(signal)
    const out = n === 0 ? Buffer.alloc(0) : Buffer.from(this.prefix(n))
    this.drop(n)
    return out
  }

  private async skip (n: number, signal: AbortSignal): Promise<void> {
    let left = n
    while (left > 0) {
      if (this.buffered === 0) await this.channel.waitForData(signal)
      const step = Math.min(left, this.buffered)
      this.drop(step)
      left -= step
    }
  }

  private drop (n: number): void {
    let left = n
    while (left > 0) {
      const first = this.chunks[0] as Buffer
      if (first.length <= left) { this.chunks.shift(); left -= first.length } else { this.chunks[0] = first.subarray(left); left = 0 }
    }
    this.buffered -= n
  }

  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      try {
        return await fn()
      } catch (err) {
        // a request given up may have stopped in the middle of a frame
        this.synced = false
        throw err
      }
    }
    const next = this.queue.then(guarded, guarded)
    this.queue = next.catch(() => {})
    return await next
  }
}

/** Connects to the agent's unix socket (a QEMU chardev) and returns a framed client on it. */
export async function connectFramedAgent (path: string, options: AbortOptions = {}): Promise<FramedAgentClient> {
  return new FramedAgentClient(await connectAgentSocket(path, options))
}
