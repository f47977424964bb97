import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { syncFilesIn, syncFolder } from '../../fs/index.js'
import { abandonedBuildDirs, claimBuildDir, releaseBuildDir } from '../build-dirs.js'
import { exec } from '../guest/exec.js'
import type { GuestImage } from '../guest/index.js'
import { checkHardware, ProductionError, type AbortOptions, type GoldenImage, type GoldenRequest, type Hardware, type LineProgress } from '../index.js'
import { kernelAppend, type MachineConfig } from './args.js'
import { coldBoot, type Booted } from './boot.js'
import { qemuCapabilities } from './capabilities.js'
import type { QemuLineInit } from './init.js'
import { checkpoint } from './migrate.js'
import { goldenMac } from './nic.js'
import { killAndWait, waitExit } from './process.js'
import { scanMentioning } from './vm-store.js'

const log = logger('vmplant:plant:qemu:golden')

/** Bump when the machine model changes: goldens made by another model cannot be cloned. */
export const MACHINE_MODEL = 2

export const GOLDEN_FILES = {
  meta: 'golden.json',
  disk: 'disk.qcow2',
  memory: 'ram',
  state: 'state.bin',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  console: 'console.log'
} as const

/** What a clone needs to rebuild the golden's machine exactly; kept in golden.json. */
export interface GoldenMeta {
  /** the machine model; a clone needs the same (its device set must match the checkpoint's) */
  version: typeof MACHINE_MODEL
  id: string
  hardware: Hardware
  applied: string[]
  memoryMB: number
  accel: 'kvm' | 'tcg'
  tbSizeMB: number
  /** the NIC's MAC in the golden (every clone starts with it); absent: the golden has no NIC */
  mac?: string
  append: string
  imageId: string
  createdAt: number
}

export interface GoldenContext {
  init: QemuLineInit
  image: GuestImage
  accel: 'kvm' | 'tcg'
}

export function goldenImageOf (meta: GoldenMeta, dir: string): GoldenImage {
  return { id: meta.id, line: 'qemu', hardware: meta.hardware, applied: meta.applied, dir, artifacts: { ...GOLDEN_FILES }, createdAt: meta.createdAt }
}

export async function readGoldenMeta (dir: string, options: AbortOptions = {}): Promise<GoldenMeta> {
  options.signal?.throwIfAborted()
  let meta: GoldenMeta
  try {
    meta = JSON.parse(await readFile(join(dir, GOLDEN_FILES.meta), 'utf8')) as GoldenMeta
  } catch (err) {
    throw new ProductionError(`no golden image in ${dir}`, { cause: err })
  }
  if (meta.version !== MACHINE_MODEL) throw new ProductionError(`the golden image in ${dir} has machine model ${String(meta.version)}, this line clones model ${MACHINE_MODEL} (its devices differ): build it again`)
  return meta
}

const inFlight = new Map<string, Promise<GoldenImage>>()

/** Boots the guest image, runs the actions, checkpoints it; returns the existing golden when there is one. */
export async function prepareGolden (ctx: GoldenContext, request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
  options.signal?.throwIfAborted()
  checkHardware(qemuCapabilities(ctx.init), 'qemu', request.hardware)
  const diskMB = request.hardware.diskMB ?? ctx.init.diskMB
  const id = createHash('sha256').update(JSON.stringify({
    MACHINE_MODEL, hardware: request.hardware, diskMB, image: ctx.image.id, accel: ctx.accel, tbSizeMB: ctx.init.tbSizeMB, nic: ctx.init.nic,
    actions: request.actions.map((a) => [a.id, a.run, a.timeoutMs ?? null])
  })).digest('hex').slice(0, 32)
  const dir = join(ctx.init.goldenDir, id)
  if (existsSync(join(dir, GOLDEN_FILES.meta))) return goldenImageOf(await readGoldenMeta(dir, options), dir)
  const running = inFlight.get(dir)
  if (running !== undefined) return await running
  const made = build(ctx, request, id, diskMB, dir, options)
  inFlight.set(dir, made)
  try {
    return await made
  } finally {
    inFlight.delete(dir)
  }
}

async function build (ctx: GoldenContext, request: GoldenRequest, id: string, diskMB: number, dir: string, options: AbortOptions): Promise<GoldenImage> {
  const { init, image } = ctx
  const work = join(init.goldenDir, `.build-${id.slice(0, 8)}-${randomBytes(3).toString('hex')}`)
  const file = (name: keyof typeof GOLDEN_FILES): string => join(work, GOLDEN_FILES[name])
  const token = randomBytes(6).toString('hex')
  await mkdir(work, { recursive: true })
  await claimBuildDir(work)
  let pid: number | undefined
  const mac = init.nic ? goldenMac(id) : undefined
  try {
    await copyFile(image.kernel, file('kernel'))
    await copyFile(image.initrd, file('initrd'))
    await exec(init.qemuImg, ['create', '-q', '-f', 'qcow2', file('disk'), `${diskMB}M`], options)
    const machine: MachineConfig = {
      memoryMB: request.hardware.memoryMB,
      accel: ctx.accel,
      tbSizeMB: init.tbSizeMB,
      kernel: file('kernel'),
      initrd: file('initrd'),
      append: kernelAppend(true),
      nic: mac === undefined ? undefined : { mac, backend: { type: 'user' } },
      ram: { path: file('memory'), share: true },
      disk: file('disk'),
      console: file('console'),
      agentSocket: join(work, 'agent.sock'),
      qmpSocket: join(work, 'qmp.sock'),
      pidFile: join(work, 'qemu.pid'),
      token,
      incoming: false
    }
    const report = init.onProgress ?? (() => {})
    const what = `golden image ${id.slice(0, 12)} (${request.hardware.memoryMB} MB, ${ctx.accel})`
    const started = Date.now()
    report({ step: 'boot', phase: 'start', detail: what })
    const booted = await coldBoot(init.qemuBinary, machine, join(work, 'qemu.log'), { signal: options.signal, timeoutMs: init.bootTimeoutMs })
    pid = booted.pid
    report({ step: 'boot', phase: 'done', detail: what })
    log('golden %s booted in %d ms', id, Date.now() - started)
    await applyAndCheckpoint(booted, request, file('state'), report, what, options)
    if (!await waitExit(pid, { timeoutMs: 10_000 })) await killAndWait(pid, token)
    pid = undefined
    const meta: GoldenMeta = {
      version: MACHINE_MODEL, id, hardware: request.hardware, applied: request.actions.map((a) => a.id), memoryMB: request.hardware.memoryMB,
      accel: ctx.accel, tbSizeMB: init.tbSizeMB, ...(mac === undefined ? {} : { mac }), append: machine.append, imageId: image.id, createdAt: Date.now()
    }
    for (const leftover of ['agent.sock', 'qmp.sock', 'qemu.pid']) await rm(join(work, leftover), { force: true })
    await releaseBuildDir(work)
    await writeFile(file('meta'), JSON.stringify(meta, null, 2) + '\n')
    // the meta file says "complete": after a power cut it must not stand beside half a checkpoint
    await syncFilesIn(work, options)
    try {
      await rename(work, dir)
      await syncFolder(init.goldenDir)
    } catch (err) {
      // another process made the same golden first; theirs is as good as ours
      if (!existsSync(join(dir, GOLDEN_FILES.meta))) throw err
      return goldenImageOf(await readGoldenMeta(dir, options), dir)
    }
    log('golden %s ready in %s', id, dir)
    return goldenImageOf(meta, dir)
  } catch (err) {
    if (pid !== undefined) await killAndWait(pid, token)
    throw err
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Runs the golden's actions in the booted guest, then checkpoints it into `stateFile` and has
 * QEMU quit; the agent and QMP channels are closed whatever happens.
 */
async function applyAndCheckpoint (booted: Booted, request: GoldenRequest, stateFile: string, report: (event: LineProgress) => void, what: string, options: AbortOptions): Promise<void> {
  try {
    const actions = `${request.actions.length} action(s) in ${what}`
    if (request.actions.length > 0) report({ step: 'actions', phase: 'start', detail: actions })
    for (const action of request.actions) {
      const result = await booted.agent.run(action, options)
      if (result.exitCode !== 0 || result.timedOut) {
        throw new ProductionError(`golden action ${action.id} ${result.timedOut ? 'timed out' : `exited with ${result.exitCode}`}: ${result.stderr.trim().slice(-500)}`)
      }
    }
    if (request.actions.length > 0) report({ step: 'actions', phase: 'done', detail: actions })
    report({ step: 'checkpoint', phase: 'start', detail: what })
    // not needed for consistency (the page cache is in the checkpoint) but keeps the base disk tidy
    await booted.agent.run({ id: 'sync', run: 'sync', timeoutMs: 30_000 }, options)
    await checkpoint(booted.qmp, stateFile, { signal: options.signal, timeoutMs: 60_000 })
    report({ step: 'checkpoint', phase: 'done', detail: what })
    await booted.qmp.execute('quit', undefined, options).catch(() => {})
  } finally {
    booted.agent.close()
    booted.qmp.close()
  }
}

/**
 * Removes golden builds that a killed plant left in the golden folder: their QEMU (a booted guest
 * that would run for ever) and their folder. Builds of a live process sharing the folder stay.
 */
export async function removeAbandonedBuilds (goldenDir: string, options: AbortOptions = {}): Promise<void> {
  for (const dir of await abandonedBuildDirs(goldenDir, '.build-', options)) {
    for (const pid of await scanMentioning(dir + '/', options)) await killAndWait(pid, dir + '/')
    log('removed the golden build %s that a killed plant left', dir)
    await rm(dir, { recursive: true, force: true })
  }
}
