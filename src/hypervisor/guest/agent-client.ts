import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import type { AbortOptions, ActionResult, GuestAction } from '../index.js'
import { AgentChannel, connectAgentSocket, withDeadline } from './agent-channel.js'
import { GuestAgentError } from './errors.js'

/** How long past an action's own timeout the host waits before it gives up on the agent. */
const GRACE_MS = 10_000
const DEFAULT_ACTION_TIMEOUT_MS = 60_000

/**
 * The host side of the guest agent protocol (docs/guest-agent.md) over one byte stream.
 * One request at a time; lines that belong to no request (a stale answer, the agent's HELLO) are skipped.
 */
export class GuestAgentClient {
  private buffer: Buffer = Buffer.alloc(0)
  private queue: Promise<unknown> = Promise.resolve()
  private readonly channel: AgentChannel

  constructor (socket: Socket) {
    this.channel = new AgentChannel(socket, (chunk) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    })
  }

  get isClosed (): boolean { return this.channel.isClosed }

  /** Resolves once the agent answers; the guest is up and its agent loop alive. */
  async ping (options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.exclusive(async () => await withDeadline(options.timeoutMs ?? 30_000, options.signal, async (deadline) => {
      const nonce = randomBytes(6).toString('hex')
      // the leading newline ends any half line the agent holds from an earlier host
      this.channel.write(`\nPING ${nonce}\n`)
      await this.readLineMatching((line) => line === `PONG ${nonce}`, deadline)
    }))
  }

  async run (action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    options.signal?.throwIfAborted()
    const timeoutMs = action.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS
    return await this.exclusive(async () => await withDeadline(timeoutMs + GRACE_MS, options.signal, async (deadline) => {
      const id = randomBytes(6).toString('hex')
      const script = Buffer.from(action.run.endsWith('\n') ? action.run : action.run + '\n')
      const started = Date.now()
      // one write: an abort can never leave the agent waiting for half a script
      this.channel.write(Buffer.concat([Buffer.from(`\nRUN ${id} ${Math.max(1, Math.ceil(timeoutMs / 1000))} ${script.length}\n`), script]))
      const head = await this.readLineMatching((line) => line.startsWith(`RES ${id} `), deadline)
      const [, , rc, timed, outLen, errLen] = head.split(' ').map((s) => s.trim())
      const counts = [rc, timed, outLen, errLen].map(Number)
      if (counts.some((n) => !Number.isInteger(n) || n < 0)) throw new GuestAgentError(`malformed result line "${head}"`)
      const [exitCode, timedOut, outBytes, errBytes] = counts as [number, number, number, number]
      const stdout = await this.readBytes(outBytes, deadline)
      const stderr = await this.readBytes(errBytes, deadline)
      const end = await this.readLine(deadline)
      if (end !== `END ${id}`) throw new GuestAgentError(`expected "END ${id}", got "${end}"`)
      return { exitCode, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), durationMs: Date.now() - started, timedOut: timedOut === 1 }
    }))
  }

  close (): void {
    this.channel.close()
  }

  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn)
    this.queue = next.catch(() => {})
    return await next
  }

  private async readLine (signal: AbortSignal): Promise<string> {
    for (;;) {
      const nl = this.buffer.indexOf(0x0a)
      if (nl >= 0) {
        const line = this.buffer.subarray(0, nl).toString('utf8').replace(/\r$/, '')
        this.buffer = this.buffer.subarray(nl + 1)
        return line
      }
      await this.channel.waitForData(signal)
    }
  }

  private async readLineMatching (match: (line: string) => boolean, signal: AbortSignal): Promise<string> {
    for (;;) {
      const line = await this.readLine(signal)
      if (match(line)) return line
    }
  }

  private async readBytes (n: number, signal: AbortSignal): Promise<Buffer> {
    while (this.buffer.length < n) await this.channel.waitForData(signal)
    const out = Buffer.from(this.buffer.subarray(0, n))
    this.buffer = this.buffer.subarray(n)
    return out
  }
}

/** Connects to the agent's unix socket (a QEMU chardev) and returns a client on it. */
export async function connectGuestAgent (path: string, options: AbortOptions = {}): Promise<GuestAgentClient> {
  return new GuestAgentClient(await connectAgentSocket(path, options))
}
