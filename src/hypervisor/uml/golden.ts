import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { syncFilesIn, syncFolder } from '../../fs/index.js'
import type { AbortOptions, GoldenImage, GoldenRequest } from '../index.js'
import { abandonedBuildDirs, claimBuildDir, releaseBuildDir } from '../build-dirs.js'
import { exec } from '../guest/exec.js'
import { bootUml, LPJ_FILE } from './boot.js'
import { UmlGoldenActionError } from './errors.js'
import type { UmlLineInit } from './init.js'
import { killVm, stopVm } from './process.js'
import { ensureBaseImage, linkOrCopy } from './rootfs.js'
import { umidOf } from './vm-store.js'

const log = logger('vmplant:plant:uml:golden')

export const GOLDEN_FILES = { disk: 'root.img', descriptor: 'golden.json', console: 'console.log' } as const

/** The last action of every golden boot: the file system is clean when the kernel halts. */
const QUIESCE = 'sync; mount -o remount,ro /; sync'

/**
 * Makes (or finds, by the hash of what goes into it) a golden root file system. Without actions
 * it is the base itself (a hard link). With actions, a sparse copy of the base boots (no COW: the
 * copy is the golden to be), runs them, remounts its root read-only and halts. UML is booted, not
 * resumed, so there is no memory state to keep (as in the paper's section 4.1). The result never
 * changes again: clones' COW files record its mtime.
 */
export async function prepareUmlGolden (init: UmlLineInit, request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
  options.signal?.throwIfAborted()
  const base = await ensureBaseImage(init, request.hardware.diskMB ?? init.diskMB, options)
  const descriptor = {
    line: 'uml',
    base: base.id,
    hardware: request.hardware,
    actions: request.actions.map((a) => ({ id: a.id, run: createHash('sha256').update(a.run).digest('hex') }))
  }
  const id = createHash('sha256').update(JSON.stringify(descriptor)).digest('hex').slice(0, 32)
  const dir = join(init.goldenDir, id)
  const known = await readGolden(dir, options)
  if (known !== undefined) return known

  await mkdir(init.goldenDir, { recursive: true })
  const tmp = await mkdtemp(join(init.goldenDir, '.golden-'))
  await claimBuildDir(tmp)
  const started = Date.now()
  try {
    const disk = join(tmp, GOLDEN_FILES.disk)
    if (request.actions.length === 0) await linkOrCopy(base.path, disk, options)
    else await runGoldenActions(init, request, base.path, tmp, options)
    await chmod(disk, 0o444)
    const golden: GoldenImage = {
      id,
      line: 'uml',
      hardware: request.hardware,
      applied: request.actions.map((a) => a.id),
      dir,
      artifacts: { disk: GOLDEN_FILES.disk },
      createdAt: Date.now()
    }
    await writeFile(join(tmp, GOLDEN_FILES.descriptor), JSON.stringify(golden) + '\n')
    await releaseBuildDir(tmp)
    // the descriptor says "complete": after a power cut it must not stand beside half a disk
    await syncFilesIn(tmp, options)
    try {
      await rename(tmp, dir)
      await syncFolder(init.goldenDir)
    } catch (err) {
      // another line made the same golden meanwhile: theirs stands, clones may already be over it
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      const theirs = await readGolden(dir)
      if (theirs === undefined) throw err
      return theirs
    }
    log('prepared UML golden %s (%d actions) in %d ms', id, request.actions.length, Date.now() - started)
    return golden
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Boots a copy of the base as `tmp/root.img`, runs the actions in it and halts it with its file system clean. */
async function runGoldenActions (init: UmlLineInit, request: GoldenRequest, base: string, tmp: string, options: AbortOptions = {}): Promise<void> {
  options.signal?.throwIfAborted()
  const token = randomBytes(8).toString('hex')
  const umid = umidOf(token)
  const umlDir = join(init.workDir, 'run')
  const disk = join(tmp, GOLDEN_FILES.disk)
  await exec('cp', ['--sparse=always', '--reflink=auto', base, disk], options)
  await chmod(disk, 0o644)
  const booted = await bootUml({
    binary: init.umlBinary,
    umid,
    umlDir,
    disk,
    memoryMB: request.hardware.memoryMB,
    consoleLog: join(tmp, GOLDEN_FILES.console),
    hostname: 'vmplant-golden',
    timeoutMs: init.bootTimeoutMs,
    kernelArgs: init.kernelArgs,
    lpjFile: join(init.workDir, LPJ_FILE)
  }, async () => {}, options)
  try {
    for (const action of request.actions) {
      const result = await booted.agent.run(action, options)
      if (result.exitCode !== 0) throw new UmlGoldenActionError(action.id, result.exitCode, result.stderr)
    }
    const quiesced = await booted.agent.run({ id: 'vmplant.quiesce', run: QUIESCE, timeoutMs: 30_000 }, options)
    if (quiesced.exitCode !== 0) throw new UmlGoldenActionError('vmplant.quiesce', quiesced.exitCode, quiesced.stderr)
    booted.agent.close()
    // read-only and synced already, so a kill after a failed halt loses nothing
    await stopVm(init.mconsoleBinary, join(umlDir, umid, 'mconsole'), umid, booted.pid, options)
  } finally {
    booted.agent.close()
    await killVm(umid, booted.pid)
    await rm(join(umlDir, umid), { recursive: true, force: true })
  }
}

async function readGolden (dir: string, options: AbortOptions = {}): Promise<GoldenImage | undefined> {
  options.signal?.throwIfAborted()
  try {
    const golden = JSON.parse(await readFile(join(dir, GOLDEN_FILES.descriptor), 'utf8')) as GoldenImage
    return { ...golden, dir }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined
    throw err
  }
}

/**
 * Removes golden builds that a killed plant left in the golden folder (sparse disk copies); their
 * linux.uml, under the line's uml_dir, is debris the line kills first. Builds of a live process
 * sharing the folder stay.
 */
export async function removeAbandonedBuilds (goldenDir: string, options: AbortOptions = {}): Promise<void> {
  for (const dir of await abandonedBuildDirs(goldenDir, '.golden-', options)) {
    log('removed the golden build %s that a killed plant left', dir)
    await rm(dir, { recursive: true, force: true })
  }
}
