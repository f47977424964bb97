import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, link, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { syncFile, syncFolder } from '../../fs/index.js'
import type { AbortOptions } from '../index.js'
import { exec } from '../guest/exec.js'
import { AGENT_SCRIPT } from '../guest/scripts.js'
import { UmlImageBuildError } from './errors.js'
import { UML_INIT_SCRIPT } from './scripts.js'

const log = logger('vmplant:plant:uml:rootfs')

/** Bump when the layout of the root file system changes, so that old bases are not reused. */
const ROOTFS_FORMAT = 1

export interface BaseImageInit {
  goldenDir: string
  busyboxPath: string
  mke2fsBinary: string
}

/** An ext4 root file system with busybox, the init script and the agent; never written once made. */
export interface BaseImage {
  /** hash of everything that went into it */
  id: string
  path: string
  diskMB: number
}

/** Returns the base root file system for these inputs, building it first when there is none. */
export async function ensureBaseImage (init: BaseImageInit, diskMB: number, options: AbortOptions = {}): Promise<BaseImage> {
  options.signal?.throwIfAborted()
  const busybox = await readStaticBusybox(init.busyboxPath, options)
  const id = createHash('sha256')
    .update(JSON.stringify({ ROOTFS_FORMAT, diskMB, UML_INIT_SCRIPT, AGENT_SCRIPT }))
    .update(busybox)
    .digest('hex').slice(0, 16)
  const path = join(init.goldenDir, 'base', `${id}.img`)
  if (existsSync(path)) return { id, path, diskMB }
  await mkdir(dirname(path), { recursive: true })
  const started = Date.now()
  const tree = await mkdtemp(join(dirname(path), '.tree-'))
  const partial = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await populateTree(tree, busybox, init.busyboxPath, options)
    await exec(init.mke2fsBinary, ['-q', '-F', '-t', 'ext4', '-L', 'vmplant', '-d', tree, partial, `${diskMB}M`], options)
    // the base is a COW backing file: UML checks its mtime, so it must never change again
    await chmod(partial, 0o444)
    // its name says "built": after a power cut it must not be there with half of its blocks
    await syncFile(partial)
    try {
      await link(partial, path)
      await syncFolder(dirname(path))
    } catch (err) {
      // another line built the same base meanwhile; theirs wins, since clones may already use it
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    log('built UML base %s (%d MB) in %d ms', id, diskMB, Date.now() - started)
    return { id, path, diskMB }
  } catch (err) {
    if (err instanceof UmlImageBuildError || options.signal?.aborted === true) throw err
    throw new UmlImageBuildError(`cannot build the UML root file system: ${(err as Error).message}`, { cause: err })
  } finally {
    await rm(tree, { recursive: true, force: true })
    await unlink(partial).catch(() => {})
  }
}

/** The folder tree of the root file system: busybox and its applet links, init, the agent. */
async function populateTree (tree: string, busybox: Buffer, busyboxPath: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'run', 'root', 'home', 'tmp']) {
    await mkdir(join(tree, dir), { recursive: true })
  }
  await chmod(join(tree, 'tmp'), 0o1777)
  await writeFile(join(tree, 'bin', 'busybox'), busybox, { mode: 0o755 })
  // the links are made here rather than by `busybox --install` at boot, so that every clone starts complete
  const { stdout } = await exec(busyboxPath, ['--list-full'], options)
  for (const applet of stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '' && s !== 'bin/busybox')) {
    if (applet.includes('..') || applet.startsWith('/')) continue
    await mkdir(join(tree, dirname(applet)), { recursive: true })
    await symlink('/bin/busybox', join(tree, applet)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
  }
  await writeFile(join(tree, 'init'), UML_INIT_SCRIPT, { mode: 0o755 })
  await writeFile(join(tree, 'sbin', 'vmplant-agent'), AGENT_SCRIPT, { mode: 0o755 })
  await writeFile(join(tree, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  await writeFile(join(tree, 'etc', 'group'), 'root:x:0:\n')
  await writeFile(join(tree, 'etc', 'hostname'), 'vmplant\n')
}

/** Reads busybox and checks that it needs no dynamic loader, which the guest would not have. */
async function readStaticBusybox (path: string, options: AbortOptions = {}): Promise<Buffer> {
  options.signal?.throwIfAborted()
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new UmlImageBuildError(`cannot read busybox at ${path} (install Debian's busybox-static): ${(err as Error).message}`, { cause: err })
  }
  if (hasInterpreter(bytes)) throw new UmlImageBuildError(`${path} is dynamically linked; install Debian's busybox-static`)
  return bytes
}

/** True when the 64-bit little-endian ELF file has a PT_INTERP program header. */
function hasInterpreter (elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new UmlImageBuildError('busybox is not an ELF file')
  if (elf[4] !== 2 || elf[5] !== 1) throw new UmlImageBuildError('busybox is not a 64-bit little-endian ELF file')
  const phoff = Number(elf.readBigUInt64LE(32))
  const phentsize = elf.readUInt16LE(54)
  const phnum = elf.readUInt16LE(56)
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize
    if (at + 4 > elf.length) break
    if (elf.readUInt32LE(at) === 3) return true
  }
  return false
}

/** Copies a file, for folders where a hard link cannot be made (another file system). */
export async function linkOrCopy (from: string, to: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  try {
    await link(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    // a copy has its own mtime, which is what UML checks: fine, since COW files are made over `to`
    await copyFile(from, to)
  }
}
