import type { AbortOptions } from './abort.js'
import type { Hardware } from './hardware.js'

/** A checkpointed VM that clones start from. Its artifacts are files under `dir`. */
export interface GoldenImage {
  /** content hash of the descriptor */
  id: string
  /** the production line that made it and can clone it */
  line: string
  hardware: Hardware
  /** ids of the actions applied to it, in the order they ran */
  applied: string[]
  /** folder that holds the artifacts */
  dir: string
  /** artifact name (disk, memory, device-state, ...) to file name inside `dir` */
  artifacts: Record<string, string>
  createdAt: number
}

// the descriptor's types are type aliases, not interfaces: records of them are plain JSON (`Json` has an index signature)
/** The hardware a golden image was made for; unlike a request's, every field is known. */
export type ImageHardware = {
  arch: string
  os: string
  memoryMB: number
  diskMB: number
}

/** One file of a golden image (disk, memory, device state, ...), checked by its digest. */
export type GoldenArtifact = {
  /** a plain file name: no folders, so a peer cannot point outside the image's folder */
  name: string
  /** 64 lower-case hex digits */
  sha256: string
  bytes: number
}

/**
 * What a golden image is, independent of where it is stored: the same descriptor means the
 * same image on every peer, and its content hash is the image's id. The planner validates
 * and hashes it (`validateDescriptor`, `goldenId`).
 */
export type GoldenDescriptor = {
  format: 'vmplant.golden/1'
  /** the kind of production line that can clone it: 'sim', 'qemu', 'uml' */
  line: string
  hardware: ImageHardware
  /** identities (`actionIdentity`) of the actions applied to the image, in the order they ran */
  applied: string[]
  artifacts: GoldenArtifact[]
}

/** How an image came to the warehouse. */
export type ImageSource = 'built' | 'published' | 'fetched' | 'learned'

/** One golden image of the warehouse: what it is (descriptor) and where its line finds it (golden). */
export interface WarehouseRecord {
  id: string
  descriptor: GoldenDescriptor
  golden: GoldenImage
  source: ImageSource
  addedAt: number
  lastUsedAt: number
  uses: number
}

/**
 * The warehouse's records as the store keeps them (src/store/ implements it on LevelDB). It
 * knows records only: describing an image, its files and the matcher's index belong to the
 * image catalog (src/images/).
 */
export interface Warehouse {
  /** bumped by every `put` and `remove`, so that a reader's cache of the records knows when to rebuild */
  readonly version: number
  list(options?: AbortOptions): Promise<WarehouseRecord[]>
  get(id: string, options?: AbortOptions): Promise<WarehouseRecord | undefined>
  put(record: WarehouseRecord, options?: AbortOptions): Promise<void>
  /** the removed record; undefined when there was none */
  remove(id: string, options?: AbortOptions): Promise<WarehouseRecord | undefined>
  /** one more use of the image, at `now` */
  touch(id: string, now: number, options?: AbortOptions): Promise<void>
  /** counts one more request for an action prefix (by its key) and returns the new count */
  notePrefix(key: string, options?: AbortOptions): Promise<number>
}

/**
 * How a production line takes in fetched images: their bytes go straight to the line's own
 * storage (the QEMU line's tmpfs, so that a RAM file is never copied twice), and the line checks
 * them before it moves them where it clones from. A line that has one says so in
 * `capabilities().goldenImport` and hands it out with `goldenImporter()`; a line without one gets
 * a fetched image in the image component's folder and clones it from there (the sim line).
 */
export interface GoldenImporter {
  /** the line kind whose images it takes */
  readonly line: string
  /**
   * Where image `id`'s artifacts are downloaded: a folder, the same for every attempt (a broken
   * transfer resumes from its `.part` files), and each artifact's file name in it, in the order
   * to fetch them. Throws, before a byte moves, for a descriptor the line cannot take.
   */
  stage(id: string, descriptor: GoldenDescriptor, options?: AbortOptions): Promise<{ dir: string, files: Array<{ name: string, file: string }> }>
  /** one artifact is downloaded and its digest checked; may refuse the image from it (a line's metadata) */
  received(id: string, descriptor: GoldenDescriptor, name: string, path: string, options?: AbortOptions): Promise<void>
  /** checks the staged image and moves it where the line clones from; returns the line's golden */
  commit(id: string, descriptor: GoldenDescriptor, options?: AbortOptions): Promise<GoldenImage>
  /** removes what is staged of the image (refused or corrupted); nothing is left */
  discard(id: string, options?: AbortOptions): Promise<void>
}
