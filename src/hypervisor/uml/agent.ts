import { constants, open } from 'node:fs'
import { ReadStream } from 'node:tty'
import type { AbortOptions } from '../index.js'
import { GuestAgentClient } from '../guest/agent-client.js'
import { GuestAgentError, GuestAgentTimeoutError } from '../guest/errors.js'

/** Each ping waits this long before the next is sent, while the guest boots. */
const PING_INTERVAL_MS = 500

/**
 * Opens the host end of the guest's agent line, a pts that linux.uml made (`ssl0=pts`), and
 * returns the guest image's agent client on it. A tty stream is a net.Socket, so the client
 * takes it as it is. linux.uml set the pts raw when it opened it, and the setting lasts as long as
 * the VM, so any later host (a restarted plant) can open the same device and talk.
 */
export async function openPtsAgent (pts: string, options: AbortOptions = {}): Promise<GuestAgentClient> {
  options.signal?.throwIfAborted()
  if (!/^\/dev\/pts\/\d+$/.test(pts)) throw new GuestAgentError(`${pts} is not a pts device`)
  const fd = await new Promise<number>((resolve, reject) => {
    open(pts, constants.O_RDWR | constants.O_NOCTTY, (err, fd) => {
      if (err !== null) reject(new GuestAgentError(`cannot open the agent line ${pts}: ${err.message}`, { cause: err }))
      else resolve(fd)
    })
  })
  return new GuestAgentClient(new ReadStream(fd))
}

/**
 * Pings until the agent answers or `deadline` (epoch ms) passes. Pings sent before the agent
 * runs are lost or answered late; late answers carry old nonces and are skipped.
 * `stillThere` is asked between pings so that a VM that died fails at once.
 */
export async function waitForAgent (client: GuestAgentClient, deadline: number, stillThere: () => string | undefined, options: AbortOptions = {}): Promise<void> {
  for (;;) {
    options.signal?.throwIfAborted()
    const gone = stillThere()
    if (gone !== undefined) throw new GuestAgentError(gone)
    const left = deadline - Date.now()
    if (left <= 0) throw new GuestAgentTimeoutError('the guest agent did not answer before the boot deadline')
    try {
      await client.ping({ signal: options.signal, timeoutMs: Math.min(PING_INTERVAL_MS, left) })
      return
    } catch (err) {
      if (!(err instanceof GuestAgentTimeoutError)) throw err
    }
  }
}
