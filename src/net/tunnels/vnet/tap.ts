import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { logger } from '@libp2p/logger'
import { errorMessage, errorStderr, type AbortOptions } from '../../../interface/index.js'
import { TapError } from './errors.js'
import { MAX_FRAME_BYTES } from './wire.js'

const run = promisify(execFile)
const log = logger('vmplant:vnet:tap')

/**
 * Socket buffers of both ends of the UDP channel: a stream's chunk arrives as a burst of dozens
 * of frames, and socat's default receive buffer (rmem_default, ~100 frames of 1500 bytes) drops
 * the tail of a burst. The kernel caps it at net.core.rmem_max.
 */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

/** Linux interface names: at most 15 characters, no slash or space. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/

export interface TapPortInit {
  /** the tap device's name (at most 15 characters) */
  name: string
  /** enslave the tap to this existing bridge */
  bridge?: string
  /** @default 1500 */
  mtu?: number
  /** how long socat may take to open the tap; @default 5000 */
  startTimeoutMs?: number
}

/**
 * Ethernet frames in and out of a tap device. iproute2 makes the tap (persistent, so that it and
 * its bridge port outlive a tunnel's stream), and socat moves each frame between the tap and a
 * UDP socket on 127.0.0.1 of the caller's namespace, one datagram per frame, which keeps frame
 * boundaries. Both UDP sockets are connected, so the kernel drops datagrams from anyone else.
 */
export interface TapPort {
  readonly name: string
  /** writes one frame to the tap; dropped silently when the port is closed, as a wire would */
  send(frame: Uint8Array): void
  /** `listener` gets every frame read from the tap; returns its removal */
  listen(listener: (frame: Uint8Array) => void): () => void
  /** resolves when socat stopped or the port was closed, with the reason */
  readonly closed: Promise<Error | undefined>
  /** stops socat and, when this port made the tap, removes it; idempotent */
  close(): Promise<void>
}

async function ip (args: string[], options: AbortOptions): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8', ...(options.signal !== undefined ? { signal: options.signal } : {}) })).stdout
  } catch (err: unknown) {
    throw new TapError(`ip ${args.join(' ')} failed: ${(errorStderr(err) ?? errorMessage(err)).trim()}`, { cause: err })
  }
}

async function linkDetails (name: string, options: AbortOptions): Promise<string | undefined> {
  try {
    return (await run('ip', ['-d', 'link', 'show', 'dev', name], { encoding: 'utf8', ...(options.signal !== undefined ? { signal: options.signal } : {}) })).stdout
  } catch {
    return undefined
  }
}

export function checkInterfaceName (name: string, what: string): string {
  if (!IFNAME.test(name)) throw new TapError(`${what} "${name}" is not a Linux interface name (1 to 15 letters, digits, "_", "." or "-")`)
  return name
}

/** Throws a TapError unless `bridge` is a bridge in this network namespace. */
export async function checkBridge (bridge: string, options: AbortOptions = {}): Promise<void> {
  checkInterfaceName(bridge, 'bridge')
  const details = await linkDetails(bridge, options)
  if (details === undefined) throw new TapError(`bridge ${bridge} does not exist in this network namespace`)
  if (!/\n\s+bridge\s/.test(details)) throw new TapError(`${bridge} is not a bridge`)
}

/**
 * Puts an existing tap on `bridge`: a tap kept across reconnects outlives a bridge that was
 * removed with the domain's last VM and made again for its next one, and must join the new one.
 */
export async function enslaveTap (tap: string, bridge: string, options: AbortOptions = {}): Promise<void> {
  await checkBridge(bridge, options)
  await ip(['link', 'set', 'dev', checkInterfaceName(tap, 'tap'), 'master', bridge], options)
}

/** Makes (or reuses) the tap `init.name`, on `init.bridge` when given, and starts socat on it. */
export async function openTap (init: TapPortInit, options: AbortOptions = {}): Promise<TapPort> {
  options.signal?.throwIfAborted()
  const name = checkInterfaceName(init.name, 'tap')
  const mtu = init.mtu ?? 1500
  if (!Number.isInteger(mtu) || mtu < 68 || mtu + 14 > MAX_FRAME_BYTES - 28) throw new TapError(`tap MTU ${mtu} is outside 68..${MAX_FRAME_BYTES - 42}`)
  if (init.bridge !== undefined) await checkBridge(init.bridge, options)
  const existing = await linkDetails(name, options)
  if (existing !== undefined && !/tun type tap/.test(existing)) throw new TapError(`${name} exists and is not a tap device`)
  const made = existing === undefined
  if (made) await ip(['tuntap', 'add', 'dev', name, 'mode', 'tap'], options)
  try {
    await ip(['link', 'set', 'dev', name, 'mtu', String(mtu)], options)
    if (init.bridge !== undefined) await ip(['link', 'set', 'dev', name, 'master', init.bridge], options)
    await ip(['link', 'set', 'dev', name, 'up'], options)
    return await startSocat(name, mtu, made, init.startTimeoutMs ?? 5000, options)
  } catch (err) {
    if (made) await ip(['link', 'del', 'dev', name], {}).catch(() => {})
    throw err
  }
}

async function bindLoopback (): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES })
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  return socket
}

async function startSocat (name: string, mtu: number, made: boolean, timeoutMs: number, options: AbortOptions): Promise<TapPort> {
  const socket = await bindLoopback()
  // socat binds the port we reserve here; another process taking it in between makes socat fail, and the caller retries
  const reserve = await bindLoopback()
  const socatPort = reserve.address().port
  reserve.close()
  const args = ['-d', '-d', '-b', String(Math.max(8192, mtu + 64)),
    `TUN,tun-type=tap,iff-no-pi,tun-name=${name}`,
    `UDP:127.0.0.1:${socket.address().port},bind=127.0.0.1:${socatPort},rcvbuf=${SOCKET_BUFFER_BYTES}`]
  // setpriv (util-linux) execs socat with a parent-death signal: a node killed outright takes its socat along
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', 'socat', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  const exited = once(child, 'exit').then(() => undefined, () => undefined)
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new TapError(`socat did not open tap ${name} in ${timeoutMs} ms: ${stderr.trim()}`)) }, timeoutMs)
      const onAbort = (): void => { reject(options.signal?.reason) }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        if (stderr.includes('starting data transfer loop')) { clearTimeout(timer); resolve() }
      })
      child.once('error', (err) => { clearTimeout(timer); reject(new TapError(`cannot run setpriv and socat (are util-linux and socat installed?): ${err.message}`, { cause: err })) })
      child.once('exit', (code) => { clearTimeout(timer); reject(new TapError(`socat exited with ${code} before opening tap ${name}: ${stderr.trim()}`)) })
    })
  } catch (err) {
    kill(child)
    await exited
    socket.close()
    throw err
  }
  socket.connect(socatPort, '127.0.0.1')
  await once(socket, 'connect')
  return new SocatTap(name, made, socket, child, exited, () => stderr)
}

function kill (child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  try { process.kill(child.pid, 'SIGTERM') } catch {}
}

class SocatTap implements TapPort {
  readonly closed: Promise<Error | undefined>
  private readonly listeners = new Set<(frame: Uint8Array) => void>()
  private open = true
  private resolveClosed!: (reason: Error | undefined) => void

  constructor (readonly name: string, private readonly made: boolean, private readonly socket: Socket, private readonly child: ChildProcess, private readonly exited: Promise<void>, stderr: () => string) {
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve })
    socket.on('message', (frame) => {
      for (const listener of this.listeners) listener(frame)
    })
    // an ICMP error from a socat that just died; its exit says why
    socket.on('error', (err) => { log('tap %s socket: %s', name, err.message) })
    child.once('exit', (code, signal) => {
      if (!this.open) return
      const reason = new TapError(`socat on tap ${name} exited (${signal ?? code}): ${stderr().trim().split('\n').slice(-2).join(' ')}`)
      log.error('%s', reason.message)
      this.open = false
      socket.close()
      this.resolveClosed(reason)
    })
  }

  send (frame: Uint8Array): void {
    if (!this.open) return
    this.socket.send(frame)
  }

  listen (listener: (frame: Uint8Array) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    if (this.open) {
      this.open = false
      this.socket.close()
      this.resolveClosed(undefined)
    }
    kill(this.child)
    await this.exited
    if (this.made) await ip(['link', 'del', 'dev', this.name], {}).catch((err) => { log.error('could not remove tap %s: %e', this.name, err) })
  }
}
