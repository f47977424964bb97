/**
 * A writer for the "newc" cpio format that the kernel unpacks as an initramfs, so that building
 * the guest image needs no `cpio` binary on the host.
 */
export type CpioEntry =
  | { type: 'dir', path: string, mode?: number }
  | { type: 'file', path: string, data: Uint8Array, mode?: number }
  | { type: 'symlink', path: string, target: string }
  | { type: 'chardev', path: string, major: number, minor: number, mode?: number }

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const S_IFCHR = 0o020000

function hex8 (n: number): string {
  return n.toString(16).padStart(8, '0')
}

function pad4 (n: number): number {
  return (4 - (n % 4)) % 4
}

function header (ino: number, mode: number, size: number, name: string, rdev: [number, number] = [0, 0]): Buffer {
  const nameBytes = Buffer.byteLength(name) + 1
  const fields = [
    '070701', hex8(ino), hex8(mode), hex8(0), hex8(0), hex8(1), hex8(0), hex8(size),
    hex8(0), hex8(0), hex8(rdev[0]), hex8(rdev[1]), hex8(nameBytes), hex8(0)
  ].join('')
  const nameBuf = Buffer.from(name + '\0')
  return Buffer.concat([Buffer.from(fields, 'ascii'), nameBuf, Buffer.alloc(pad4(fields.length + nameBuf.length))])
}

/** Serialises the entries, in order, followed by the trailer. Parents must come before children. */
export function writeCpio (entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = []
  let ino = 1
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '')
    let mode: number
    let data: Uint8Array
    let rdev: [number, number] = [0, 0]
    switch (entry.type) {
      case 'dir': mode = S_IFDIR | (entry.mode ?? 0o755); data = new Uint8Array(0); break
      case 'file': mode = S_IFREG | (entry.mode ?? 0o644); data = entry.data; break
      case 'symlink': mode = S_IFLNK | 0o777; data = Buffer.from(entry.target); break
      case 'chardev': mode = S_IFCHR | (entry.mode ?? 0o600); data = new Uint8Array(0); rdev = [entry.major, entry.minor]; break
      default: { const never: never = entry; throw new Error(`unknown cpio entry ${String(never)}`) }
    }
    parts.push(header(ino++, mode, data.length, path, rdev), Buffer.from(data), Buffer.alloc(pad4(data.length)))
  }
  parts.push(header(0, 0, 0, 'TRAILER!!!'))
  return Buffer.concat(parts)
}
