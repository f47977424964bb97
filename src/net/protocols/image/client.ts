import type { PeerId } from '@libp2p/interface'
import type { AbortOptions } from '../../../interface/index.js'
import { call } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import type { ImagesLibp2p } from './dht.js'
import { IMAGE_WIRE_LIMITS, descriptorAnswerSchema, imagesAnswerSchema, type DescriptorAnswer, type ImagesAnswer } from './wire.js'

/** The holder's descriptor of image `id` (unchecked: the caller verifies it against the id) and its file names. */
export async function requestDescriptor (libp2p: ImagesLibp2p, peer: PeerId, id: string, options: AbortOptions = {}): Promise<DescriptorAnswer> {
  return await call(libp2p, peer, PROTOCOLS.image, { type: 'descriptor', id }, descriptorAnswerSchema, { ...options, maxBytes: IMAGE_WIRE_LIMITS.maxAnswerBytes })
}

/** The images the peer provides under a prefix key, descriptors unchecked. */
export async function requestImages (libp2p: ImagesLibp2p, peer: PeerId, key: string, options: AbortOptions = {}): Promise<ImagesAnswer['images']> {
  return (await call(libp2p, peer, PROTOCOLS.image, { type: 'images', key }, imagesAnswerSchema, { ...options, maxBytes: IMAGE_WIRE_LIMITS.maxAnswerBytes })).images
}
