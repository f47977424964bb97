import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '@libp2p/logger'
import { errorMessage } from '../interface/index.js'

/**
 * Keeps the node connected to its bootstrap peers: dials them at start and again whenever they
 * are not connected, so that a federation heals after a peer restarts.
 */
export class BootstrapDialer {
  private timer?: NodeJS.Timeout
  private readonly addrs: Multiaddr[]
  private dialing = false

  constructor (private readonly node: Libp2p, addrs: string[], private readonly intervalMs: number, private readonly log: Logger) {
    this.addrs = addrs.map((a) => multiaddr(a))
  }

  start (): void {
    if (this.timer !== undefined || this.addrs.length === 0) return
    void this.tick()
    this.timer = setInterval(() => { void this.tick() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async tick (): Promise<void> {
    if (this.dialing) return
    this.dialing = true
    try {
      await Promise.all(this.addrs.map(async (addr) => {
        const id = addr.getComponents().find((c) => c.name === 'p2p')?.value
        if (id !== undefined && this.node.getConnections(peerIdFromString(id)).length > 0) return
        if (id === undefined && this.node.getConnections().some((c) => c.remoteAddr.toString().startsWith(addr.toString()))) return
        try {
          await this.node.dial(addr, { signal: AbortSignal.timeout(Math.max(1000, this.intervalMs)) })
          this.log('connected to bootstrap peer %a', addr)
        } catch (err: unknown) {
          this.log('bootstrap peer %a not reachable: %s', addr, errorMessage(err))
        }
      }))
    } finally {
      this.dialing = false
    }
  }
}
