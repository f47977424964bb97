import { open, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import type { AbortOptions } from '../index.js'

/**
 * UML's COW file, version 3 (arch/um/drivers/cow_user.c), written here rather than by
 * `uml_mkcow` so that a clone needs no helper program: a header naming the backing file with its
 * mtime and size, a bitmap of the sectors written so far (all clear), then the sectors themselves,
 * sparse. linux.uml refuses the COW file if the backing file's mtime or size changes.
 */
const COW_MAGIC = 0x4f4f4f4d
const COW_VERSION = 3
const SECTOR_SIZE = 512
const ALIGNMENT = 4096
const PATH_LENGTH = 4096
/** magic, version, mtime (u32), size (u64), sector size, alignment, format (u32 each) */
const FIXED_HEADER = 4 + 4 + 4 + 8 + 4 + 4 + 4

export async function writeCowFile (cowPath: string, backingPath: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  if (!isAbsolute(backingPath)) throw new Error(`the backing file ${backingPath} must be an absolute path`)
  const backing = await stat(backingPath)
  const name = Buffer.from(backingPath)
  if (name.length >= PATH_LENGTH) throw new Error(`the backing file path ${backingPath} is too long for a COW header`)
  const header = Buffer.alloc(FIXED_HEADER + PATH_LENGTH)
  header.writeUInt32BE(COW_MAGIC, 0)
  header.writeUInt32BE(COW_VERSION, 4)
  header.writeUInt32BE(Math.floor(backing.mtimeMs / 1000) >>> 0, 8)
  header.writeBigUInt64BE(BigInt(backing.size), 12)
  header.writeUInt32BE(SECTOR_SIZE, 20)
  header.writeUInt32BE(ALIGNMENT, 24)
  header.writeUInt32BE(0, 28) // COW_BITMAP
  name.copy(header, FIXED_HEADER)
  const sectors = Math.ceil(backing.size / SECTOR_SIZE)
  const bitmapBytes = Math.ceil(sectors / 8)
  const bitmapOffset = roundUp(header.length, ALIGNMENT)
  const dataOffset = roundUp(bitmapOffset + bitmapBytes, ALIGNMENT)
  // 'wx': a clone never overwrites an existing file
  const file = await open(cowPath, 'wx')
  try {
    await file.write(header, 0, header.length, 0)
    await file.truncate(dataOffset + backing.size)
  } finally {
    await file.close()
  }
}

function roundUp (n: number, to: number): number {
  return Math.ceil(n / to) * to
}
