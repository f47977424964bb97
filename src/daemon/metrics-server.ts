import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '@libp2p/logger'
import type { NodeMetrics } from './metrics.js'
import { MetricsServerError } from './errors.js'
import { errorMessage } from '../interface/index.js'

/** `host:port` as the config gives it; `[::1]:9464` for IPv6. */
export function parseListen (listen: string): { host: string, port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen)
  const port = match !== null ? Number(match[3]) : NaN
  if (match === null || port > 65535) throw new MetricsServerError(`metrics.listen: "${listen}" is not host:port (port 0..65535)`)
  return { host: match[1] ?? match[2] as string, port }
}

/**
 * Serves a node's metrics on GET /metrics over plain HTTP, for Prometheus. Keep it on loopback or
 * a management network: it has no authentication. start/stop are idempotent.
 */
export class MetricsServer {
  private server?: Server

  constructor (private readonly metrics: NodeMetrics, private readonly listen: string, private readonly log: Logger) {}

  /** the address it listens on, `host:port` (the real port when the config said 0) */
  get address (): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined
    if (address == null) return undefined
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`
  }

  async start (): Promise<void> {
    if (this.server !== undefined) return
    const { host, port } = parseListen(this.listen)
    const server = this.server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0]
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n')
        return
      }
      this.metrics.text().then((text) => {
        response.writeHead(200, { 'content-type': this.metrics.contentType }).end(text)
      }, (err: Error) => {
        this.log.error('collecting metrics failed: %e', err)
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${err.message}\n`)
      })
    })
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => { server.off('error', reject); resolve() })
      })
    } catch (err: unknown) {
      this.server = undefined
      throw new MetricsServerError(`metrics.listen: cannot listen on ${this.listen}: ${errorMessage(err)}`, { cause: err })
    }
    this.log('metrics on http://%s/metrics', this.address)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
}
