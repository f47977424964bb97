import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ImageNetwork } from '../../../interface/index.js'
import { PROTOCOLS } from '../../protocols.js'
import { requestDescriptor, requestImages } from './client.js'
import { dhtPeers, provide, providers, type ImagesLibp2p } from './dht.js'
import { downloadBytes } from './download.js'
import { handleImageStream } from './server.js'

export { ImageNotHeldError, TransferError } from './errors.js'
export { IMAGE_WIRE_LIMITS } from './wire.js'
export { dhtPeers, type ImagesLibp2p } from './dht.js'

export interface ImageNetworkInit {
  /** @default 'vmplant:images' */
  logPrefix?: string
}

/**
 * `/vmplant/image/1.0.0` and the DHT's provider records on a libp2p node with a kad-dht: the
 * `ImageNetwork` the image component (src/images/) stands on. Wire code only: what to fetch,
 * verify and keep is the component's.
 */
export function imageNetwork (libp2p: ImagesLibp2p, init: ImageNetworkInit = {}): ImageNetwork {
  const log = logger(init.logPrefix ?? 'vmplant:images')
  return {
    dhtPeers: () => dhtPeers(libp2p),
    providers: (key, options) => providers(libp2p, key, options),
    provide: async (key, options) => await provide(libp2p, key, options),
    async serve (images, options) {
      await libp2p.handle(PROTOCOLS.image, async (stream, connection) => {
        await handleImageStream(stream, connection, { catalog: images, log, signal: options.signal })
      }, { maxInboundStreams: options.maxInboundStreams, runOnLimitedConnection: false })
    },
    async unserve () {
      await libp2p.unhandle(PROTOCOLS.image)
    },
    describe: async (peer, id, options) => await requestDescriptor(libp2p, peerIdFromString(peer), id, options),
    list: async (peer, key, options) => await requestImages(libp2p, peerIdFromString(peer), key, options),
    download: async (peer, request, sink, options) => { await downloadBytes(libp2p, peerIdFromString(peer), request, sink, options) }
  }
}
