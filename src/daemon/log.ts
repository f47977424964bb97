import weald from 'weald'
import { format as formatArgs } from 'node:util'

/** `json`: one JSON object per line, for journald and log shippers; `text`: for a person at a terminal. */
export type LogFormat = 'json' | 'text'
export type LogLevel = 'trace' | 'info' | 'warn' | 'error'

/** One log line as the node writes it; `ns` is the component (`vmplant:plant`, `libp2p:dialer`). */
export interface LogLine {
  time: string
  level: LogLevel
  /** the node's peer id, once it has its key */
  peer?: string
  ns: string
  msg: string
  [field: string]: unknown
}

export interface NodeLogInit {
  /** @default 'text' when `stream` is a terminal, else 'json' */
  format?: LogFormat
  /** where lines go; journald reads a unit's stderr like its stdout. @default process.stderr */
  stream?: { write(chunk: string): unknown, isTTY?: boolean }
  /** the node's peer id, asked for each line: undefined until the node has its key */
  peer?: () => string | undefined
  /** @default () => new Date() */
  now?: () => Date
}

/** The node process's log: every `@libp2p/logger` line of the process, and the node's own. */
export interface NodeLog {
  readonly format: LogFormat
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** gives `@libp2p/logger` its own output back */
  uninstall(): void
}

/** the node's own lines (start, signals, warnings), beside its components' */
const NODE_NS = 'vmplant'
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

/** `@libp2p/logger` names a logger's levels by suffix: `<ns>:error`, `<ns>:trace`, else info. */
export function levelOf (namespace: string): { level: LogLevel, ns: string } {
  if (namespace.endsWith(':error')) return { level: 'error', ns: namespace.slice(0, -':error'.length) }
  if (namespace.endsWith(':trace')) return { level: 'trace', ns: namespace.slice(0, -':trace'.length) }
  return { level: 'info', ns: namespace }
}

/** One line, without its newline: JSON on one line whatever the message holds, or `time level ns msg`. */
export function formatLine (line: LogLine, format: LogFormat): string {
  if (format === 'json') return JSON.stringify(line)
  const { time, level, ns, msg } = line
  return `${time} ${level.padEnd(5)} ${ns} ${msg}`
}

/** The format a node's log takes when neither `--log-format` nor the config chooses: text on a terminal, else JSON lines. */
export function defaultLogFormat (stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY === true ? 'text' : 'json'
}

/**
 * The line that says the node did not start (a config that does not validate, a port in use): the
 * error's message, and its class (and code, if any) as fields for whoever filters the journal.
 */
export function failureLine (err: unknown, init: { peer?: string, now?: Date } = {}): LogLine {
  const { name, message, code } = (err ?? {}) as { name?: unknown, message?: unknown, code?: unknown }
  const reason = typeof message === 'string' && message.trim() !== '' ? message : String(err)
  return {
    time: (init.now ?? new Date()).toISOString(),
    level: 'error',
    ...(init.peer !== undefined ? { peer: init.peer } : {}),
    ns: NODE_NS,
    msg: `failed to start: ${reason.replace(ANSI, '')}`,
    ...(typeof name === 'string' ? { error: name } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {})
  }
}

let installed: { uninstall: () => void } | undefined

/**
 * Routes every `@libp2p/logger` (weald) line of this process through one writer, with the time,
 * level, component and the node's peer id; which components log is still chosen by `DEBUG`. One
 * per process: the node's (a second install replaces the first). Actors and the other layers keep
 * logging through `@libp2p/logger` and never see this.
 */
export function installNodeLog (init: NodeLogInit = {}): NodeLog {
  installed?.uninstall()
  const stream = init.stream ?? process.stderr
  const format = init.format ?? defaultLogFormat(stream)
  const now = init.now ?? (() => new Date())
  const write = (level: LogLevel, ns: string, msg: string, fields: Record<string, unknown> = {}): void => {
    const peer = init.peer?.()
    // fields cannot overwrite the line's own keys
    const line: LogLine = { ...fields, time: now().toISOString(), level, ...(peer !== undefined ? { peer } : {}), ns, msg: format === 'json' ? msg.replace(ANSI, '') : msg }
    stream.write(formatLine(line, format) + '\n')
  }
  const saved = { formatArgs: weald.formatArgs, log: weald.log }
  // weald applies its %-formatters (%p, %e, ...) first, then formatArgs (which would add the
  // namespace and colours: not wanted here), then log with the debugger as `this`
  weald.formatArgs = function () {}
  weald.log = function (this: { namespace?: string }, ...args: unknown[]) {
    const { level, ns } = levelOf(this?.namespace ?? 'unknown')
    write(level, ns, formatArgs(...args))
  }
  const log: NodeLog & { uninstall: () => void } = {
    format,
    info: (msg, fields) => { write('info', NODE_NS, msg, fields) },
    warn: (msg, fields) => { write('warn', NODE_NS, msg, fields) },
    error: (msg, fields) => { write('error', NODE_NS, msg, fields) },
    uninstall: () => {
      if (installed !== log) return
      weald.formatArgs = saved.formatArgs
      weald.log = saved.log
      installed = undefined
    }
  }
  installed = log
  return log
}

/**
 * The components that log when `DEBUG` is unset: errors only, so that a node under systemd says
 * what went wrong without being asked; `DEBUG` (even empty) chooses instead.
 */
export const DEFAULT_DEBUG = 'vmplant:*:error'

/** Turns on DEFAULT_DEBUG when the environment does not choose. */
export function enableDefaultDebug (env: NodeJS.ProcessEnv = process.env): void {
  if (env.DEBUG === undefined) weald.enable(DEFAULT_DEBUG)
}
