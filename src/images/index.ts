/**
 * Golden images, one owner: the catalogue over the store's `Warehouse` port, descriptors and
 * digests, the learning and eviction policy, the DHT index and the fetches from peers (over the
 * `ImageNetwork` port that src/net/protocols/image/ implements). See README.md.
 */
import { PeerImagesService } from './peer-images.js'
import { validatePeerImagesInit } from './settings.js'
import type { PeerImages, PeerImagesComponents, PeerImagesInit } from './types.js'

export { ImageCatalog, imageCatalog } from './catalog.js'
export { describeGolden, DEFAULT_IMAGE_DISK_MB } from './describe.js'
export { goldenImages, type GoldenImages, type GoldenImagesComponents, type ImageChoice, type BestForOptions } from './golden-images.js'
export { learnAfter, duePrefix, learnPrefix, evictBeyondBudget, type LearningConfig, type LearningParts } from './learning.js'
export { readWarehouse, planView, formatPlanView, summarize, type ImageSummary, type PlanView } from './views.js'
export { prefixKey, imageKeys } from './keys.js'
export { rankCandidates, type RemoteCandidate } from './lookup.js'
export { LinkSpeeds } from './link-speed.js'
export { imageFetchProgress } from './fetch-steps.js'
export { PEER_IMAGES_DEFAULTS, validatePeerImagesInit } from './settings.js'
export { DigestMismatchError, MissingArtifactError, ProvideError, InvalidImagesInitError, ClashingFilesError } from './errors.js'
export type { DownloadProgress } from './artifact-file.js'
export type { PeerImages, PeerImagesComponents, PeerImagesInit, PeerImagesEvent, CandidateOptions, FetchOptions, FetchBetterOptions, FetchQuote } from './types.js'

/** The DHT index and transfers of golden images between plants. */
export function peerImages (components: PeerImagesComponents, init: PeerImagesInit): PeerImages {
  return new PeerImagesService(components, validatePeerImagesInit(init))
}
