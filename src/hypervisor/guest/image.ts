import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile, copyFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { logger } from '@libp2p/logger'
import { syncFilesIn, syncFolder } from '../../fs/index.js'
import type { AbortOptions, LineProgress } from '../index.js'
import { writeCpio, type CpioEntry } from './cpio.js'
import { GuestImageBuildError } from './errors.js'
import { exec } from './exec.js'
import { AGENT_C_SOURCE } from './agent-c.js'
import { INIT_SCRIPT } from './scripts.js'

const log = logger('vmplant:plant:guest-image')

/** Bump when the layout of a built image changes, so that old caches are not reused. */
const IMAGE_FORMAT = 2

export interface GuestImageInit {
  /** where built images are kept; @default $VMPLANT_CACHE, else ~/.cache/vmplant */
  cacheDir?: string
  /** Debian package (or meta-package) with the kernel; @default 'linux-image-cloud-amd64' */
  kernelPackage?: string
  /** Debian package with a static busybox; @default 'busybox-static' */
  busyboxPackage?: string
  /** kernel modules loaded at boot, their dependencies added; @default virtio pci, blk, console, net */
  modules?: string[]
  /** sees the build's steps (download, build), for a person watching a first build; not part of the image's identity */
  onProgress?: (event: LineProgress) => void
}

/** A bootable guest: a kernel and an initramfs with busybox, the modules and the agent. */
export interface GuestImage {
  /** hash of the inputs that made it */
  id: string
  dir: string
  kernel: string
  initrd: string
  kernelVersion: string
}

export const GUEST_IMAGE_DEFAULTS = {
  kernelPackage: 'linux-image-cloud-amd64',
  busyboxPackage: 'busybox-static',
  modules: ['virtio_pci', 'virtio_blk', 'virtio_console', 'virtio_net']
} as const

export function defaultCacheDir (): string {
  return process.env.VMPLANT_CACHE ?? join(homedir(), '.cache', 'vmplant')
}

function imageInputs (init: GuestImageInit): { cacheDir: string, kernelPackage: string, busyboxPackage: string, modules: string[], id: string, dir: string } {
  const cacheDir = init.cacheDir ?? defaultCacheDir()
  const kernelPackage = init.kernelPackage ?? GUEST_IMAGE_DEFAULTS.kernelPackage
  const busyboxPackage = init.busyboxPackage ?? GUEST_IMAGE_DEFAULTS.busyboxPackage
  const modules = init.modules ?? [...GUEST_IMAGE_DEFAULTS.modules]
  const id = createHash('sha256')
    .update(JSON.stringify({ IMAGE_FORMAT, kernelPackage, busyboxPackage, modules, INIT_SCRIPT, AGENT_C_SOURCE }))
    .digest('hex').slice(0, 16)
  return { cacheDir, kernelPackage, busyboxPackage, modules, id, dir: join(cacheDir, 'guest', id) }
}

/** The image for these inputs when it is built already, else undefined; never builds. */
export async function cachedGuestImage (init: GuestImageInit = {}, options: AbortOptions = {}): Promise<GuestImage | undefined> {
  options.signal?.throwIfAborted()
  const { id, dir } = imageInputs(init)
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { kernelVersion: string }
    return { id, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), kernelVersion: manifest.kernelVersion }
  } catch {
    return undefined
  }
}

/** Returns the cached image for these inputs, building it first when there is none. */
export async function ensureGuestImage (init: GuestImageInit = {}, options: AbortOptions = {}): Promise<GuestImage> {
  options.signal?.throwIfAborted()
  const { cacheDir, kernelPackage, busyboxPackage, modules, id, dir } = imageInputs(init)
  const manifestPath = join(dir, 'manifest.json')
  const cached = await cachedGuestImage(init, options)
  if (cached !== undefined) return cached
  const work = join(cacheDir, 'guest', `.build-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(join(work, 'out'), { recursive: true })
    log('building guest image %s in %s', id, work)
    const report = init.onProgress ?? (() => {})
    const packages = `${kernelPackage} and ${busyboxPackage} (apt-get download)`
    report({ step: 'download', phase: 'start', detail: packages })
    const kernel = await extractKernel(work, kernelPackage, options)
    const busybox = await extractPackage(work, busyboxPackage, options)
    report({ step: 'download', phase: 'done', detail: packages })
    report({ step: 'build', phase: 'start', detail: `guest image ${id}: agent, modules, initramfs` })
    const busyboxBin = join(busybox, 'bin', 'busybox')
    if (!existsSync(busyboxBin)) throw new GuestImageBuildError(`package ${busyboxPackage} has no bin/busybox`)
    const agent = await compileAgent(work, options)
    const moduleFiles = await resolveModules(join(kernel.root, 'lib', 'modules', kernel.version), modules, options)
    const entries: CpioEntry[] = [
      ...['bin', 'sbin', 'etc', 'lib', 'lib/modules', 'dev', 'proc', 'sys', 'tmp', 'run', 'data', 'root', 'usr', 'usr/bin', 'usr/sbin']
        .map((path): CpioEntry => ({ type: 'dir', path })),
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { type: 'file', path: 'bin/busybox', data: await readFile(busyboxBin), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'file', path: 'init', data: Buffer.from(INIT_SCRIPT), mode: 0o755 },
      { type: 'file', path: 'sbin/vmplant-agent', data: agent, mode: 0o755 },
      { type: 'file', path: 'etc/modules', data: Buffer.from(moduleFiles.map((m) => m.name + '\n').join('')) },
      ...await Promise.all(moduleFiles.map(async (m): Promise<CpioEntry> => ({ type: 'file', path: `lib/modules/${m.name}.ko`, data: await readFile(m.path) })))
    ]
    await writeFile(join(work, 'out', 'initrd.img'), gzipSync(writeCpio(entries)))
    await copyFile(kernel.vmlinuz, join(work, 'out', 'vmlinuz'))
    const manifest = { id, kernelPackage: kernel.pkg, kernelVersion: kernel.version, busyboxPackage, modules: moduleFiles.map((m) => m.name), builtAt: new Date().toISOString() }
    await writeFile(join(work, 'out', 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
    // the manifest says "built": after a power cut it must not stand beside half an initrd
    await syncFilesIn(join(work, 'out'), options)
    await rename(join(work, 'out'), dir).then(async () => { await syncFolder(dirname(dir)) }, async (err: NodeJS.ErrnoException) => {
      // another builder won the race; its image is as good as ours
      if (!existsSync(manifestPath)) throw err
    })
    log('built guest image %s (kernel %s)', id, kernel.version)
    report({ step: 'build', phase: 'done', detail: `guest image ${id}: agent, modules, initramfs` })
    return { id, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), kernelVersion: kernel.version }
  } catch (err) {
    if (err instanceof GuestImageBuildError || options.signal?.aborted === true) throw err
    throw new GuestImageBuildError(`could not build the guest image: ${(err as Error).message}`, { cause: err })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Compiles the agent (agent-c.ts) statically with the host's gcc, so that it runs on the guest's
 * bare initramfs. Needs the Debian packages gcc and libc6-dev on the host, at build time only.
 */
async function compileAgent (work: string, options: AbortOptions = {}): Promise<Buffer> {
  const source = join(work, 'vmplant-agent.c')
  const binary = join(work, 'vmplant-agent')
  await writeFile(source, AGENT_C_SOURCE)
  try {
    await exec('gcc', ['-static', '-Os', '-s', '-Wall', '-o', binary, source], options)
  } catch (err) {
    options.signal?.throwIfAborted()
    throw new GuestImageBuildError(`cannot compile the guest agent with gcc (install the Debian packages gcc and libc6-dev): ${(err as Error).message}`, { cause: err })
  }
  return await readFile(binary)
}

/** `apt-get download` then `dpkg-deb -x`; nothing is installed on the host. Returns the extracted root. */
async function extractPackage (work: string, pkg: string, options: AbortOptions = {}): Promise<string> {
  options.signal?.throwIfAborted()
  const dl = join(work, `dl-${pkg}`)
  await mkdir(dl, { recursive: true })
  try {
    await exec('apt-get', ['download', pkg], { ...options, cwd: dl })
  } catch (err) {
    throw new GuestImageBuildError(`apt-get download ${pkg} failed (run apt-get update first?)`, { cause: err })
  }
  const deb = (await readdir(dl)).find((f) => f.endsWith('.deb'))
  if (deb === undefined) throw new GuestImageBuildError(`apt-get download ${pkg} left no .deb`)
  const root = join(work, `x-${pkg}`)
  await exec('dpkg-deb', ['-x', join(dl, deb), root], options)
  await rm(join(dl, deb))
  return root
}

interface Kernel { pkg: string, root: string, vmlinuz: string, version: string }

/** Follows a meta-package (linux-image-cloud-amd64) to the versioned package that has the kernel. */
async function extractKernel (work: string, pkg: string, options: AbortOptions, depth = 0): Promise<Kernel> {
  const root = await extractPackage(work, pkg, options)
  const boot = existsSync(join(root, 'boot')) ? await readdir(join(root, 'boot')) : []
  const image = boot.find((f) => f.startsWith('vmlinuz-'))
  if (image !== undefined) return { pkg, root, vmlinuz: join(root, 'boot', image), version: image.slice('vmlinuz-'.length) }
  if (depth > 2) throw new GuestImageBuildError(`package ${pkg} has no kernel`)
  const { stdout } = await exec('apt-cache', ['depends', '--no-recommends', '--no-suggests', pkg], options)
  const dep = /Depends: (linux-image-\d\S*)/.exec(stdout)?.[1]
  if (dep === undefined) throw new GuestImageBuildError(`package ${pkg} has no kernel and depends on no linux-image package`)
  return await extractKernel(work, dep, options, depth + 1)
}

interface ModuleFile { name: string, path: string }

/** Finds each module and, before it, the modules it depends on (read from the .ko's modinfo). */
async function resolveModules (moduleRoot: string, wanted: string[], options: AbortOptions = {}): Promise<ModuleFile[]> {
  options.signal?.throwIfAborted()
  const index = new Map<string, string>()
  for (const entry of await readdir(moduleRoot, { recursive: true })) {
    const m = /([^/]+)\.ko$/.exec(entry)
    if (m?.[1] !== undefined) index.set(m[1].replace(/-/g, '_'), join(moduleRoot, entry))
  }
  const ordered: ModuleFile[] = []
  const seen = new Set<string>()
  const visit = async (name: string): Promise<void> => {
    const key = name.replace(/-/g, '_')
    if (seen.has(key)) return
    seen.add(key)
    const path = index.get(key)
    if (path === undefined) throw new GuestImageBuildError(`kernel module ${name} not found under ${moduleRoot}`)
    const info = (await readFile(path)).toString('latin1')
    const deps = /\0depends=([^\0]*)/.exec(info)?.[1] ?? ''
    for (const dep of deps.split(',').filter((d) => d !== '')) await visit(dep)
    ordered.push({ name: key, path })
  }
  for (const name of wanted) await visit(name)
  return ordered
}
