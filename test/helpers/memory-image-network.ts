import { createReadStream } from 'node:fs'
import type { AbortOptions, ArtifactRequest, ImageNetwork, ServedImages } from '../../src/interface/index.js'

/**
 * An `ImageNetwork` among plants of one process, for the image component's own tests: a DHT of
 * provider records and the three requests answered from each plant's served images, reading
 * artifacts from their files as the libp2p server does. `calls` counts what was asked of it.
 */
export class MemoryImageNetworks {
  private readonly served = new Map<string, ServedImages>()
  /** key -> providers, in the order they provided */
  private readonly dht = new Map<string, string[]>()
  readonly calls = { providers: 0, describe: 0, list: 0, download: 0 }

  join (peer: string): ImageNetwork {
    return {
      dhtPeers: () => this.served.size - 1,
      providers: (key, options) => this.providers(peer, key, options),
      provide: async (key) => {
        const holders = this.dht.get(key) ?? []
        if (!holders.includes(peer)) this.dht.set(key, [...holders, peer])
        return this.served.size - 1
      },
      serve: async (images) => { this.served.set(peer, images) },
      unserve: async () => { this.served.delete(peer) },
      describe: async (holder, id) => {
        this.calls.describe++
        const record = await this.held(holder).get(id)
        if (record === undefined) throw new Error(`${holder} does not hold ${id}`)
        return { descriptor: record.descriptor, files: record.golden.artifacts }
      },
      list: async (holder, key) => {
        this.calls.list++
        const images = this.held(holder)
        const records = await Promise.all(images.under(key).map(async (id) => await images.get(id)))
        return records.flatMap((r) => r !== undefined ? [{ id: r.id, descriptor: r.descriptor }] : [])
      },
      download: async (holder, request, sink, options) => { await this.download(holder, request, sink, options) }
    }
  }

  private async * providers (self: string, key: string, options: AbortOptions = {}): AsyncGenerator<string> {
    options.signal?.throwIfAborted()
    this.calls.providers++
    for (const peer of this.dht.get(key) ?? []) if (peer !== self && this.served.has(peer)) yield peer
  }

  private held (peer: string): ServedImages {
    const images = this.served.get(peer)
    if (images === undefined) throw new Error(`${peer} serves no images`)
    return images
  }

  private async download (holder: string, request: ArtifactRequest, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
    this.calls.download++
    const record = await this.held(holder).get(request.id)
    const file = record?.golden.artifacts[request.name]
    if (record === undefined || file === undefined) throw new Error(`${holder} has no artifact ${request.name} of ${request.id}`)
    for await (const chunk of createReadStream(`${record.golden.dir}/${file}`, { start: request.offset, signal: options.signal })) await sink(chunk as Buffer)
  }
}
