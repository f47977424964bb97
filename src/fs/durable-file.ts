import { randomBytes } from 'node:crypto'
import { link, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { CorruptFileError } from './errors.js'

/** What `writeFileDurably` writes: bytes, text, or chunks as they come (a stream that fails leaves the old file). */
export type FileData = string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>

export interface DurableWriteOptions {
  /** the permission bits of the file (less the umask); @default 0o666 */
  mode?: number
  /** never replace a file that exists: fail with EEXIST instead, as `flag: 'wx'` does; @default false */
  exclusive?: boolean
  signal?: AbortSignal
}

/**
 * The name a write goes to before it is renamed into place: in the target's own folder (a rename
 * across file systems is a copy), and with the writer's pid, so that a folder's owner can find
 * and remove what a killed writer left (`<file>.<pid>-<8 hex>.tmp`).
 */
export function temporaryNameFor (file: string): string {
  return `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`
}

/**
 * Writes `file` so that after a crash or a power cut it holds either its old content or all of the
 * new, and a reader at any moment sees one of the two whole: the data goes to a temporary file in
 * the same folder, which is fsynced, renamed over the target (linked, when `exclusive`), and the
 * folder fsynced so that the rename itself is on disk. On failure the temporary file is removed.
 */
export async function writeFileDurably (file: string, data: FileData, options: DurableWriteOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const temporary = temporaryNameFor(file)
  try {
    const handle = await open(temporary, 'wx', options.mode ?? 0o666)
    try {
      await writeFile(handle, data, options.signal !== undefined ? { signal: options.signal } : {})
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (options.exclusive === true) {
      // link fails when the target exists, where rename would replace it
      await link(temporary, file)
      await rm(temporary, { force: true })
    } else {
      await rename(temporary, file)
    }
  } catch (err: unknown) {
    await rm(temporary, { force: true })
    throw err
  }
  await syncFolder(dirname(file))
}

/** fsyncs a folder, so that the names made, renamed or removed in it last are on disk. */
export async function syncFolder (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch (err: unknown) {
    // a file system that cannot sync a folder (some network ones) keeps its names its own way
    if (!isErrno(err, 'EINVAL')) throw err
  } finally {
    await handle.close()
  }
}

/**
 * fsyncs every file directly in `dir`, then `dir`: for a folder that tools filled (a golden
 * build) and that is about to be renamed into place as complete, so that after a power cut it is
 * not there, or there with all of its files whole.
 */
export async function syncFilesIn (dir: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    options.signal?.throwIfAborted()
    if (entry.isFile()) await syncFile(join(dir, entry.name))
  }
  await syncFolder(dir)
}

/** fsyncs a file a tool wrote, before it is renamed or linked into place as complete. */
export async function syncFile (file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface JsonReadOptions {
  /**
   * what a file that is not whole JSON is: an error naming it, or absent, for a caller that can
   * make it again (a cache); @default 'error'
   */
  corrupt?: 'error' | 'absent'
  signal?: AbortSignal
}

/**
 * Reads and parses a JSON file; undefined when it does not exist. A file that does not parse is a
 * CorruptFileError naming it, or undefined with `corrupt: 'absent'`. What the value holds is the
 * caller's to check.
 */
export async function readJsonFile (file: string, options: JsonReadOptions = {}): Promise<unknown> {
  options.signal?.throwIfAborted()
  let text: string
  try {
    text = await readFile(file, { encoding: 'utf8', ...(options.signal !== undefined ? { signal: options.signal } : {}) })
  } catch (err: unknown) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw err
  }
  try {
    return JSON.parse(text)
  } catch (err: unknown) {
    if (options.corrupt === 'absent') return undefined
    throw new CorruptFileError(file, `${file} is not whole JSON (${text.length} characters): ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** Whether `err` is a system error with this code (src/interface has errorCode, but src/fs imports nothing of ours). */
function isErrno (err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code
}
