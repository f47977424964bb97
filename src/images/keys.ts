import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { canonicalJson, goldenCid, hardwareKey, type GoldenDescriptor, type Hardware } from '../planner/index.js'

/** multicodec `json` and multihash `sha2-256`, as `goldenCid` uses */
const JSON_CODEC = 0x0200
const SHA2_256 = 0x12

/** Tags the hashed form so a later change of the scheme cannot collide with today's keys. */
const KEY_FORMAT = 'vmplant.image-key/1'

/**
 * The DHT key of "an image of this line and hardware whose applied sequence starts with
 * `prefix`": the CID of `{format, line, hardware: hardwareKey(hardware), prefix}` in canonical
 * JSON. Disk size is left out on purpose: an image with a larger disk still serves, so the
 * requester checks disk after it has the descriptor.
 */
export function prefixKey (line: string, hardware: Pick<Hardware, 'arch' | 'os' | 'memoryMB'>, prefix: readonly string[]): CID {
  const json = canonicalJson({ format: KEY_FORMAT, line, hardware: hardwareKey(hardware), prefix: [...prefix] })
  return CID.createV1(JSON_CODEC, Digest.create(SHA2_256, createHash('sha256').update(json).digest()))
}

/**
 * Every key a holder of the image provides: the image's own CID, then one prefix key for each
 * length 0..n of its applied sequence (length 0 is "any image of this hardware").
 */
export function imageKeys (descriptor: GoldenDescriptor): { image: CID, prefixes: CID[] } {
  const prefixes: CID[] = []
  for (let length = 0; length <= descriptor.applied.length; length++) {
    prefixes.push(prefixKey(descriptor.line, descriptor.hardware, descriptor.applied.slice(0, length)))
  }
  return { image: goldenCid(descriptor), prefixes }
}
