import { spawn } from 'node:child_process'

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
 * send (no unix datagram sockets); `systemd-notify --no-block`, shipped with systemd itself, sends
 * each one for us. `--no-block` skips its barrier, which would wait on a file descriptor the
 * service manager closes; `--pid` names this process, so `NotifyAccess=all` attributes it to us.
 * A failure is said, never silent, and does not stop the node.
 */
export function systemdNotifier (init: SystemdNotifierInit): SystemdNotifier {
  const env = init.env ?? process.env
  const socket = env.NOTIFY_SOCKET
  const enabled = socket !== undefined && socket !== ''
  const failed = new Set<string>()
  let watchdog: NodeJS.Timeout | undefined

  const send = async (kind: string, fields: string[]): Promise<void> => {
    if (!enabled) return
    const error = await run(['--no-block', `--pid=${process.pid}`, ...fields], env)
    if (error === undefined || failed.has(kind)) return
    failed.add(kind)
    init.log(`could not tell systemd ${kind} through ${socket}: ${error}`)
  }

  return {
    enabled,
    async ready (status) {
      await send('READY=1', ['--ready', `STATUS=${status}`])
      const intervalMs = watchdogIntervalMs(env)
      if (intervalMs === undefined || watchdog !== undefined) return
      watchdog = setInterval(() => { void send('WATCHDOG=1', ['WATCHDOG=1']) }, intervalMs)
      watchdog.unref()
    },
    async stopping (status) {
      if (watchdog !== undefined) clearInterval(watchdog)
      watchdog = undefined
      await send('STOPPING=1', ['STOPPING=1', `STATUS=${status}`])
    }
  }
}

/** Half of `$WATCHDOG_USEC` in ms, when the watchdog is asked of this process (`$WATCHDOG_PID` unset or ours). */
export function watchdogIntervalMs (env: NodeJS.ProcessEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (env.WATCHDOG_USEC === undefined || !Number.isFinite(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(process.pid)) return undefined
  return Math.max(1, Math.floor(usec / 2000))
}

/** runs systemd-notify; undefined when it succeeded, else why not */
async function run (args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return await new Promise((resolve) => {
    let stderr = ''
    const child = spawn('systemd-notify', args, { stdio: ['ignore', 'ignore', 'pipe'], env })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    child.on('error', (err) => { resolve(`systemd-notify could not run (${err.message}); install systemd's tools`) })
    child.on('exit', (code, signal) => { resolve(code === 0 ? undefined : `systemd-notify ${signal ?? `exited with ${code}`}: ${stderr.trim() || 'no reason given'}`) })
  })
}
