import { spawn } from 'node:child_process'
import { Socket } from 'node:net'
import type { Readable, Writable } from 'node:stream'

/** What the node tells systemd, when it runs under it (`Type=notify`, `NotifyAccess=all`). */
export interface SystemdNotifier {
  /** true when `$NOTIFY_SOCKET` is set */
  readonly enabled: boolean
  /** `READY=1`, then `WATCHDOG=1` every half `WatchdogSec` while the node lives (when systemd asks for it) */
  ready(status: string): Promise<void>
  /** `STOPPING=1`; the watchdog stops */
  stopping(status: string): Promise<void>
}

export interface SystemdNotifierInit {
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  /** where a failed notification is said (once per kind of message) */
  log: (line: string) => void
}

/**
 * systemd's notify protocol is datagrams on the unix socket `$NOTIFY_SOCKET`, which Node cannot
 * send (no unix datagram sockets). One socat child, started on the first message and living as
 * long as the node, sends what the node writes to its stdin: being alive in the node's cgroup, it
 * is attributed to the unit under `NotifyAccess=all`. (A `systemd-notify` per message is not: it
 * has often exited before systemd reads the datagram, and `--pid` needs CAP_SYS_ADMIN.) Two
 * messages socat happens to read at once make one datagram of newline-separated assignments,
 * which the protocol allows. A failure is said, never silent, and does not stop the node.
 */
export function systemdNotifier (init: SystemdNotifierInit): SystemdNotifier {
  const env = init.env ?? process.env
  const socket = env.NOTIFY_SOCKET
  const enabled = socket !== undefined && socket !== ''
  const failed = new Set<string>()
  let watchdog: NodeJS.Timeout | undefined
  let sender: NotifySender | undefined

  const send = async (kind: string, fields: string[]): Promise<void> => {
    if (!enabled) return
    sender ??= notifySender(socket, env)
    const error = await sender.send([...fields, `MAINPID=${process.pid}`].join('\n') + '\n')
    if (error === undefined || failed.has(kind)) return
    failed.add(kind)
    init.log(`could not tell systemd ${kind} through ${socket}: ${error}`)
  }

  return {
    enabled,
    async ready (status) {
      await send('READY=1', ['READY=1', `STATUS=${status}`])
      const intervalMs = watchdogIntervalMs(env)
      if (intervalMs === undefined || watchdog !== undefined) return
      watchdog = setInterval(() => { void send('WATCHDOG=1', ['WATCHDOG=1']) }, intervalMs)
      watchdog.unref()
    },
    async stopping (status) {
      if (watchdog !== undefined) clearInterval(watchdog)
      watchdog = undefined
      await send('STOPPING=1', ['STOPPING=1', `STATUS=${status}`])
      sender?.close()
    }
  }
}

interface NotifySender {
  /** undefined when written, else why not */
  send: (message: string) => Promise<string | undefined>
  close: () => void
}

/** A child's pipe is a net.Socket at run time, though typed as a plain stream: let it not hold the event loop. */
function unrefPipe (pipe: Readable | Writable): void {
  if (pipe instanceof Socket) pipe.unref()
}

/** `socat -u STDIN UNIX-SENDTO:$NOTIFY_SOCKET` (`ABSTRACT-SENDTO` for a socket name starting with @) */
function notifySender (socket: string, env: NodeJS.ProcessEnv): NotifySender {
  const address = socket.startsWith('@') ? `ABSTRACT-SENDTO:${socket.slice(1)}` : `UNIX-SENDTO:${socket}`
  let stderr = ''
  let gone: string | undefined
  const child = spawn('socat', ['-u', 'STDIN', address], { stdio: ['pipe', 'ignore', 'pipe'], env })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.on('error', (err) => { gone = `socat could not run (${err.message}); install socat` })
  child.on('exit', (code, signal) => { gone ??= `socat ${signal ?? `exited with ${code}`}: ${stderr.trim() || 'no reason given'}` })
  child.stdin.on('error', () => {})
  // the node's exit closes the pipe, and socat then ends: neither handle may keep the node alive
  child.unref()
  unrefPipe(child.stdin)
  unrefPipe(child.stderr)
  return {
    send: async (message) => {
      if (gone !== undefined) return gone
      return await new Promise((resolve) => {
        child.stdin.write(message, (err) => { resolve(err == null ? gone : `writing to socat failed: ${err.message}`) })
      })
    },
    close: () => { child.stdin.end() }
  }
}

/** Half of `$WATCHDOG_USEC` in ms, when the watchdog is asked of this process (`$WATCHDOG_PID` unset or ours). */
export function watchdogIntervalMs (env: NodeJS.ProcessEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (env.WATCHDOG_USEC === undefined || !Number.isFinite(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(process.pid)) return undefined
  return Math.max(1, Math.floor(usec / 2000))
}
