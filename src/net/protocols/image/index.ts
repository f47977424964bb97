import { RemoteImagesService, validateRemoteImagesInit } from './remote-images.js'
import type { RemoteImages, RemoteImagesComponents, RemoteImagesInit } from './types.js'

export { REMOTE_IMAGES_DEFAULTS } from './remote-images.js'

export { DigestMismatchError, ImageNotHeldError, TransferError, ProvideError, InvalidImagesInitError } from './errors.js'
export { prefixKey, imageKeys } from './keys.js'
export { IMAGE_WIRE_LIMITS } from './wire.js'
export { imageFetchProgress } from './fetch-steps.js'
export type { RemoteCandidate, ImagesLibp2p } from './lookup.js'
export type { DownloadProgress } from './download.js'
export type { RemoteImages, RemoteImagesComponents, RemoteImagesInit, RemoteImagesEvent, CandidateOptions, FetchOptions, FetchBetterOptions, FetchQuote, ImageImporter } from './types.js'

export function remoteImages (components: RemoteImagesComponents, init: RemoteImagesInit): RemoteImages {
  return new RemoteImagesService(components, validateRemoteImagesInit(init))
}
