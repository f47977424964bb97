import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '../../fs/index.js'
import type { AbortOptions } from '../index.js'
import { QemuStartError } from './errors.js'
import { GOLDEN_FILES } from './golden.js'

/** beside the golden's artifacts, never one of them: made again by the first clone that needs it */
export const CLONE_KERNEL = 'vmlinuz.clone'

/** the payload QEMU gets after the setup sectors: a page of zeros, never run */
const STUB_PAYLOAD = 4096

/**
 * The `-kernel` file of a clone: the golden kernel's setup sectors (its boot header) and a page of
 * zeros. A clone never boots, but the pc machine reads the whole `-kernel` file into its heap for
 * fw_cfg and keeps it there (14 MB of the Debian cloud kernel per clone). What it derives from the
 * file (the linuxboot option ROM, load and initrd addresses, the command line) comes from the
 * header, so the device set and the RAM blocks stay those of the golden's checkpoint.
 * Made once per golden folder, durably (a temporary file fsynced and renamed).
 */
export async function cloneKernel (goldenDir: string, options: AbortOptions = {}): Promise<string> {
  options.signal?.throwIfAborted()
  const target = join(goldenDir, CLONE_KERNEL)
  if (await stat(target).then((s) => s.size > 0, () => false)) return target
  const source = join(goldenDir, GOLDEN_FILES.kernel)
  const file = await open(source, 'r')
  let setup: Buffer
  try {
    const header = Buffer.alloc(0x1f2)
    await file.read(header, 0, header.length, 0)
    const sectors = header[0x1f1] === 0 ? 4 : header[0x1f1] as number
    setup = Buffer.alloc((sectors + 1) * 512)
    const read = await file.read(setup, 0, setup.length, 0)
    if (read.bytesRead < setup.length || setup.toString('latin1', 0x202, 0x206) !== 'HdrS') {
      throw new QemuStartError(`${source} is not a Linux bzImage (no boot header): cannot make a clone's kernel`)
    }
  } finally {
    await file.close()
  }
  await writeFileDurably(target, Buffer.concat([setup, Buffer.alloc(STUB_PAYLOAD)]), options)
  return target
}
