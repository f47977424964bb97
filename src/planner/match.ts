import { artifactBytes, goldenId, type GoldenDescriptor } from './golden.js'
import { compileRequest, hasBit, setBit, type CompiledRequest, type IdentityGroup } from './request.js'
import type { ActionSpec, Hardware, VmSpec } from './spec.js'

/** A golden image the planner may choose. */
export interface WarehouseImage {
  /** `goldenId(descriptor)` */
  id: string
  descriptor: GoldenDescriptor
  /** what cloning it costs this plant (bytes to copy, a fetch first if remote, ...); breaks ties between images that save as much */
  cloneCost: number
}

/** An image to index; `id` and `cloneCost` are worked out when absent. */
export interface WarehouseImageInit {
  /** @default goldenId(descriptor) */
  id?: string
  descriptor: GoldenDescriptor
  /** @default the total bytes of its artifacts */
  cloneCost?: number
}

/** Images of one memory, arch and OS, in the order they are tried. */
interface HardwareGroup {
  /** most actions applied first, then the cheaper clone, then the smaller id: the first admissible one wins */
  images: WarehouseImage[]
  /** image i's applied identities, interned: `steps[starts[i]]` to `steps[starts[i + 1] - 1]` (flat, so a scan reads memory in order) */
  steps: Int32Array
  starts: Int32Array
  /** image i's disk size in MB */
  disks: Float64Array
  /** image i's identity filter: words [i*FILTER_WORDS, (i+1)*FILTER_WORDS) */
  filters: Uint32Array
}

/**
 * The warehouse prepared for matching: images grouped by hardware (memory, arch and OS must be
 * equal), sorted so that the first admissible image is the best, each with a small Bloom filter
 * of its identities so that an image that applied something the request lacks is usually
 * refused in a few word operations. Build it once per change of the warehouse; `chooseImage`
 * only reads it.
 */
export interface WarehouseIndex {
  readonly images: readonly WarehouseImage[]
  /** identity to a small integer */
  readonly identities: ReadonlyMap<string, number>
  readonly groups: ReadonlyMap<string, HardwareGroup>
}

/** The planner's answer: clone `image`, then run `remaining`. */
export interface Plan {
  image: WarehouseImage
  /** the request's actions the image already has, in the order it applied them */
  cloned: ActionSpec[]
  /** the other actions, in a topological order of the request's DAG */
  remaining: ActionSpec[]
}

/** 512 bits, two per identity: a request of 30 actions lets about 1 in 70 foreign identities through. */
const FILTER_WORDS = 16

/** The key under which images of the same memory, arch and OS are grouped. */
export function hardwareKey (hardware: Pick<Hardware, 'arch' | 'os' | 'memoryMB'>): string {
  return `${hardware.arch}\n${hardware.os}\n${hardware.memoryMB}`
}

/** Indexes images for `chooseImage`. */
export function indexWarehouse (images: Iterable<WarehouseImageInit>): WarehouseIndex {
  const identities = new Map<string, number>()
  const byKey = new Map<string, WarehouseImage[]>()
  const all: WarehouseImage[] = []
  for (const init of images) {
    const image: WarehouseImage = {
      id: init.id ?? goldenId(init.descriptor),
      descriptor: init.descriptor,
      cloneCost: init.cloneCost ?? artifactBytes(init.descriptor)
    }
    all.push(image)
    for (const identity of image.descriptor.applied) if (!identities.has(identity)) identities.set(identity, identities.size)
    const key = hardwareKey(image.descriptor.hardware)
    const list = byKey.get(key) ?? []
    list.push(image)
    byKey.set(key, list)
  }
  const groups = new Map<string, HardwareGroup>()
  for (const [key, list] of byKey) {
    list.sort((a, b) => b.descriptor.applied.length - a.descriptor.applied.length || a.cloneCost - b.cloneCost || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const filters = new Uint32Array(list.length * FILTER_WORDS)
    list.forEach((image, i) => { for (const identity of image.descriptor.applied) addToFilter(filters, i * FILTER_WORDS, identity) })
    const starts = new Int32Array(list.length + 1)
    list.forEach((image, i) => { starts[i + 1] = (starts[i] as number) + image.descriptor.applied.length })
    const steps = Int32Array.from(list.flatMap((image) => image.descriptor.applied), (identity) => identities.get(identity) as number)
    const disks = Float64Array.from(list, (image) => image.descriptor.hardware.diskMB)
    groups.set(key, { images: list, steps, starts, disks, filters })
  }
  return { images: all, identities, groups }
}

/**
 * Chooses the golden image for a request: among the images whose hardware matches (memory,
 * arch and OS equal, disk at least the requested) and that pass the subset, prefix and partial
 * order tests of the paper's section 3.2, the one that saves the most actions, then the cheaper
 * clone, then the smaller id. `undefined` when no image is admissible.
 *
 * The three tests together hold exactly when every applied action, in turn, is an action of
 * the request not yet applied whose direct predecessors have all been applied before it, so
 * one pass over the applied sequence decides, stopping at the first step that fails.
 */
export function chooseImage (request: CompiledRequest | VmSpec, index: WarehouseIndex): Plan | undefined {
  const req = 'groupOf' in request ? request : compileRequest(request)
  const group = index.groups.get(hardwareKey(req.spec.hardware))
  if (group === undefined) return undefined
  // interned identity -> 1 + its group in the request (0: not in the request)
  const slot = new Int32Array(index.identities.size)
  const filter = new Uint32Array(FILTER_WORDS)
  const small = smallRequest(req, index.identities.size)
  for (const [identity, g] of req.groupOf) {
    const interned = index.identities.get(identity)
    if (interned !== undefined) slot[interned] = g + 1
    if (interned !== undefined && small !== undefined) small.action[interned] = (req.groups[g]?.chain[0] as number) + 1
    addToFilter(filter, 0, identity)
  }
  const minDisk = req.spec.hardware.diskMB ?? 0
  const applied = new Uint32Array(req.words)
  const path: number[] = []
  const { images, steps, starts, disks, filters } = group
  for (let i = 0; i < images.length; i++) {
    if ((disks[i] as number) < minDisk) continue
    if (!filterWithin(filters, i * FILTER_WORDS, filter)) continue
    const from = starts[i] as number
    const to = starts[i + 1] as number
    if (small !== undefined && !admissibleSmall(small, steps, from, to)) continue
    if (!admissible(req, slot, steps, from, to, applied, path)) continue
    const cloned = new Set(path)
    return {
      image: images[i] as WarehouseImage,
      cloned: path.map((a) => req.actions[a] as ActionSpec),
      remaining: req.order.filter((a) => !cloned.has(a)).map((a) => req.actions[a] as ActionSpec)
    }
  }
  return undefined
}

/** For a request of at most 32 actions, each with its own identity: one word per bitset. */
interface SmallRequest {
  /** interned identity -> 1 + its action's index, 0 when not in the request */
  action: Int32Array
  /** direct predecessors of action i as one word */
  preds: Uint32Array
}

/** The fast path's tables, `action` still empty; undefined when the request is not small. */
function smallRequest (req: CompiledRequest, identities: number): SmallRequest | undefined {
  if (req.words !== 1 || req.groups.some((g) => g.chain.length !== 1)) return undefined
  return { action: new Int32Array(identities), preds: req.preds }
}

/** `admissible` for a small request, without bookkeeping: most images are refused here. */
function admissibleSmall (small: SmallRequest, steps: Int32Array, from: number, to: number): boolean {
  let applied = 0
  for (let step = from; step < to; step++) {
    const a = (small.action[steps[step] as number] as number) - 1
    if (a < 0) return false
    const bit = 1 << a
    if ((applied & bit) !== 0 || ((small.preds[a] as number) & ~applied) !== 0) return false
    applied |= bit
  }
  return true
}

/**
 * The three tests in one pass over `steps[from..to)`; on success `path` holds the request
 * actions the sequence maps to. `applied` and `path` are scratch space, cleared here.
 */
function admissible (req: CompiledRequest, slot: Int32Array, steps: Int32Array, from: number, to: number, applied: Uint32Array, path: number[]): boolean {
  const { groups, preds, words } = req
  applied.fill(0)
  path.length = 0
  for (let step = from; step < to; step++) {
    const g = slot[steps[step] as number] as number
    if (g === 0) return false
    const group = groups[g - 1] as IdentityGroup
    if (group.ambiguous !== undefined) return false
    // the k-th application of an identity is the k-th action of its chain
    const chain = group.chain
    let a = -1
    for (let k = 0; k < chain.length; k++) {
      const candidate = chain[k] as number
      if (!hasBit(applied, 0, candidate)) { a = candidate; break }
    }
    if (a < 0) return false
    for (let w = 0; w < words; w++) {
      if (((preds[a * words + w] as number) & ~(applied[w] as number)) !== 0) return false
    }
    setBit(applied, 0, a)
    path.push(a)
  }
  return true
}

/** Sets two bits chosen by the identity's own hex digits (identities are SHA-256, so already uniform). */
function addToFilter (filter: Uint32Array, base: number, identity: string): void {
  const bits = FILTER_WORDS * 32
  setBit(filter, base, parseInt(identity.slice(0, 8), 16) % bits)
  setBit(filter, base, parseInt(identity.slice(8, 16), 16) % bits)
}

/** Whether every bit of the filter at `base` is also set in `outer`. */
function filterWithin (filters: Uint32Array, base: number, outer: Uint32Array): boolean {
  for (let w = 0; w < FILTER_WORDS; w++) {
    if (((filters[base + w] as number) & ~(outer[w] as number)) !== 0) return false
  }
  return true
}
