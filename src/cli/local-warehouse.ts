import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { plantStore, type LevelStore } from '../store/index.js'
import { UsageError } from './errors.js'
import { errorMessage } from '../interface/index.js'

/**
 * Opens a stopped plant's store for the image and plan commands. `dir` is the plant's dataDir
 * (or its store folder); a running plant holds the store's lock, so it is asked over the
 * network instead (`--plant`).
 */
export async function withLocalStore<T> (dir: string, work: (store: LevelStore) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  if (options.create === true) await mkdir(join(dir, 'store'), { recursive: true })
  const location = await isDir(join(dir, 'store')) ? join(dir, 'store') : dir
  if (!(await isDir(location))) throw new UsageError(`--warehouse ${dir}: no such folder`)
  const store = plantStore(location)
  try {
    await store.start()
  } catch (err: unknown) {
    const locked = /lock/i.test(innermostMessage(err))
    throw new UsageError(locked ? `the store at ${location} is in use by a running plant; ask it with --plant ADDR` : errorMessage(err))
  }
  try {
    return await work(store)
  } finally {
    await store.stop()
  }
}

async function isDir (path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** The line kind of the images in a warehouse, when there is only one. */
export async function onlyLineKind (store: LevelStore): Promise<string | undefined> {
  const kinds = new Set((await store.warehouse.list()).map((r) => r.descriptor.line))
  return kinds.size === 1 ? [...kinds][0] : undefined
}

/** the message of the deepest cause: the store's error wraps level's, which wraps the lock's */
function innermostMessage (err: unknown): string {
  return err instanceof Error && err.cause instanceof Error ? innermostMessage(err.cause) : errorMessage(err)
}
