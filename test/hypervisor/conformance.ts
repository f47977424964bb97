/**
 * The one suite every production line passes, as abstract-level's shared suite does for stores:
 * `productionLineConformance(target)` registers the cases for one line in the calling spec file.
 * One golden image is built per file and shared by the cases, which run in order (test.serial).
 * A line that cannot run here is skipped with the reason, unless CI is set: then it fails.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import test, { type ExecutionContext } from 'ava'
import {
  hardwareProblem, UnsupportedHardwareError, VmNotFoundError, type GoldenImage, type Hardware, type HostParams, type ProductionLine, type VmInfo
} from '../../src/hypervisor/index.js'
import { killAll, lineMissing, makeLine, pidsMentioning, processGone, tree, until, type LineKind } from '../helpers/hypervisors.js'

export interface Folders { work: string, golden: string }

export interface ConformanceTarget {
  kind: LineKind
  /** the options of a line over these folders; a restarted line gets the same ones */
  init: (folders: Folders) => Record<string, unknown>
  /** the golden folder must be on tmpfs (the QEMU line maps its RAM file) */
  goldenOnTmpfs?: boolean
  hardware: Hardware
  /** guest files that a clone writes in the isolation case: where a guest's disk and memory differ, one on each */
  privatePaths: string[]
  /** a guest file that the golden's action writes and every clone reads */
  goldenPath: string
  /** the line's VMs run as host processes whose command lines name the work folder */
  processes: boolean
  /** work-folder files that a line makes once for all its VMs (the UML line's measured lpj) */
  lineFiles?: RegExp
  /** longest golden build, ms; @default 120000 */
  goldenTimeoutMs?: number
}

const CHILD = fileURLToPath(new URL('./line-child.js', import.meta.url))
const HOST_ACTIONS: HostParams[] = [{ attach: 'iso', image: '/nonexistent.iso' }, { attach: 'nic', network: 'conformance' }]

export function productionLineConformance (target: ConformanceTarget): void {
  const { kind } = target
  const missing = lineMissing(kind)
  if (missing !== undefined && process.env.CI === undefined) {
    test.skip(`${kind} line conformance: skipped, ${missing} (under CI this fails)`, () => {})
    return
  }
  if (missing !== undefined) test(`the ${kind} line is installed (CI)`, (t) => { t.fail(missing) })

  const folders: Folders = {
    work: mkdtempSync(join(tmpdir(), `vmplant-${kind}c-`)),
    golden: mkdtempSync(join(target.goldenOnTmpfs === true ? '/dev/shm' : tmpdir(), `vmplant-${kind}g-`))
  }
  const made: ProductionLine[] = []
  const extraFolders: string[] = []
  const children = new Set<number>()
  let line: ProductionLine
  let golden: GoldenImage | undefined

  const newLine = (over: Folders = folders): ProductionLine => {
    const each = makeLine(kind, target.init(over))
    made.push(each)
    return each
  }
  const needGolden = (): GoldenImage => {
    if (golden === undefined) throw new Error('no golden image: its case failed')
    return golden
  }
  /** pids of the line's hypervisor processes, and files under the work folder, to compare with later */
  const snapshot = (dir = folders.work): { pids: number[], files: string[] } => ({ pids: target.processes ? pidsMentioning(dir) : [], files: tree(dir) })
  const leftovers = (before: { pids: number[], files: string[] }, dir = folders.work): { pids: number[], files: string[] } => {
    const now = snapshot(dir)
    return {
      pids: now.pids.filter((p) => !before.pids.includes(p)),
      files: now.files.filter((f) => !before.files.includes(f) && target.lineFiles?.test(f) !== true)
    }
  }
  const running = async (vmid: string, on = line): Promise<VmInfo> => {
    const cloned = await on.clone(needGolden(), vmid)
    await on.resume(vmid)
    return cloned
  }

  test.after.always(async () => {
    for (const each of made) await each.stop({ destroyAll: true }).catch(() => {})
    killAll(children)
    for (const dir of [folders.work, ...extraFolders]) killAll(pidsMentioning(dir))
    for (const dir of [folders.work, folders.golden, ...extraFolders]) rmSync(dir, { recursive: true, force: true })
  })

  test.serial(`${kind}: capabilities and fingerprint describe the line, before and after start`, async (t) => {
    const fresh = newLine()
    const caps = fresh.capabilities()
    t.is(fresh.kind, kind)
    t.true(caps.minMemoryMB > 0)
    t.true(caps.hostActions.every((a) => a === 'iso' || a === 'nic'))
    t.is(typeof caps.networks, 'boolean')
    t.true(caps.liveReattach, 'the suite runs each line in the mode where VMs outlive the line object')
    t.is(hardwareProblem(caps, kind, target.hardware), undefined)
    t.regex(hardwareProblem(caps, kind, { ...target.hardware, memoryMB: caps.minMemoryMB - 1 }) ?? '', /at least/)
    const print = await fresh.fingerprint()
    t.is(print.kind, kind)
    t.true(print.healthy, print.detail)
    t.not(print.version, '')
    t.not(print.acceleration, '')
    t.is(fresh.reservedMB(), 0)
    t.true(fresh.memoryCostMB(target.hardware.memoryMB) >= target.hardware.memoryMB)
    line = fresh
    await line.start()
    t.deepEqual(line.capabilities(), caps)
    t.true((await line.fingerprint()).healthy)
    t.deepEqual(await line.list(), [])
  })

  test.serial(`${kind}: a golden image is prepared with its action applied, found again by content, and refused below the least memory`, async (t) => {
    t.timeout(target.goldenTimeoutMs ?? 120_000)
    const request = { hardware: target.hardware, actions: [{ id: 'mark', run: `echo made-in-golden > ${target.goldenPath}` }] }
    golden = await line.prepareGolden(request)
    t.is(golden.line, kind)
    t.deepEqual(golden.applied, ['mark'])
    t.is((await line.prepareGolden(request)).id, golden.id)
    const tooSmall = { ...target.hardware, memoryMB: line.capabilities().minMemoryMB - 1 }
    await t.throwsAsync(line.prepareGolden({ hardware: tooSmall, actions: [] }), { instanceOf: UnsupportedHardwareError })
    await t.notThrowsAsync(line.warm([golden]))
  })

  test.serial(`${kind}: a clone is not running until resumed, and its handle is plain JSON`, async (t) => {
    const cloned = await line.clone(needGolden(), 'vm-one')
    t.is(cloned.vmid, 'vm-one')
    t.is(cloned.goldenId, needGolden().id)
    t.true(cloned.state === 'paused' || cloned.state === 'stopped', cloned.state)
    t.deepEqual(JSON.parse(JSON.stringify(cloned.handle)), cloned.handle)
    await t.throwsAsync(line.clone(needGolden(), 'vm-one'))
    const resumed = await line.resume('vm-one')
    t.is(resumed.state, 'running')
    t.is((await line.inspect('vm-one')).state, 'running')
    t.is((await line.resume('vm-one')).state, 'running', 'resuming a running VM leaves it running')
  })

  test.serial(`${kind}: an action returns stdout and stderr apart, and its exit code; the golden's writes are there`, async (t) => {
    const result = await line.runAction('vm-one', { id: 'streams', run: 'echo out\necho err >&2\nexit 3' })
    t.deepEqual([result.exitCode, result.stdout, result.stderr, result.timedOut], [3, 'out\n', 'err\n', false])
    t.true(result.durationMs >= 0)
    const read = await line.runAction('vm-one', { id: 'read', run: `cat ${target.goldenPath}` })
    t.deepEqual([read.exitCode, read.stdout], [0, 'made-in-golden\n'])
  })

  test.serial(`${kind}: an action that outlives its timeout is stopped and reported, and the VM takes the next one`, async (t) => {
    const result = await line.runAction('vm-one', { id: 'slow', run: 'echo started\nsleep 30', timeoutMs: 1000 })
    t.true(result.timedOut)
    t.is(result.stdout, 'started\n')
    t.true(result.durationMs >= 900 && result.durationMs < 10_000, `${result.durationMs} ms`)
    t.is((await line.runAction('vm-one', { id: 'next', run: 'echo still-here' })).stdout, 'still-here\n')
  })

  test.serial(`${kind}: an unknown VM is VmNotFoundError everywhere but destroy`, async (t) => {
    const handle = (await line.inspect('vm-one')).handle
    await t.throwsAsync(line.inspect('no-such-vm'), { instanceOf: VmNotFoundError })
    await t.throwsAsync(line.resume('no-such-vm'), { instanceOf: VmNotFoundError })
    await t.throwsAsync(line.runAction('no-such-vm', { id: 'x', run: 'true' }), { instanceOf: VmNotFoundError })
    await t.throwsAsync(line.recover('no-such-vm', handle), { instanceOf: VmNotFoundError }, 'another VM\'s handle')
    await t.throwsAsync(line.recover('vm-one', { line: 'elsewhere', token: 'nope' }), { instanceOf: VmNotFoundError }, 'a handle that is not this line\'s')
    await t.notThrowsAsync(line.destroy('no-such-vm'))
  })

  test.serial(`${kind}: host actions the line does not state are refused with UnsupportedHardwareError`, async (t) => {
    const stated = line.capabilities().hostActions
    for (const params of HOST_ACTIONS) {
      if (stated.includes(params.attach)) {
        await t.notThrowsAsync(line.hostAction('vm-one', params), params.attach)
        await t.throwsAsync(line.hostAction('no-such-vm', params), { instanceOf: VmNotFoundError })
      } else {
        const error = await t.throwsAsync(line.hostAction('vm-one', params), { instanceOf: UnsupportedHardwareError })
        t.true(error?.message.includes(params.attach), error?.message)
      }
    }
  })

  test.serial(`${kind}: two clones of one golden do not see each other's writes`, async (t) => {
    await running('left')
    await running('right')
    const write = await line.runAction('left', { id: 'w', run: `${target.privatePaths.map((p) => `echo L > ${p}`).join('\n')}\nsync\necho ok` })
    t.is(write.stdout, 'ok\n')
    for (const path of target.privatePaths) {
      const left = await line.runAction('left', { id: 'look', run: `cat ${path}` })
      const right = await line.runAction('right', { id: 'look', run: `cat ${path}` })
      t.deepEqual([left.exitCode, left.stdout], [0, 'L\n'], path)
      t.not(right.exitCode, 0, path)
      t.is(right.stdout, '', path)
    }
    t.is((await line.runAction('right', { id: 'g', run: `cat ${target.goldenPath}` })).stdout, 'made-in-golden\n')
  })

  test.serial(`${kind}: list holds every VM with its state and handle, as inspect does`, async (t) => {
    await line.clone(needGolden(), 'not-resumed')
    const listed = new Map((await line.list()).map((vm) => [vm.vmid, vm]))
    t.deepEqual([...listed.keys()].sort(), ['left', 'not-resumed', 'right', 'vm-one'])
    for (const [vmid, info] of listed) {
      const inspected = await line.inspect(vmid)
      t.is(info.state, inspected.state, vmid)
      t.is(info.goldenId, needGolden().id)
      t.deepEqual(info.handle, inspected.handle, vmid)
    }
    t.is(listed.get('left')?.state, 'running')
    t.true(['paused', 'stopped'].includes(listed.get('not-resumed')?.state ?? ''))
  })

  test.serial(`${kind}: destroy removes the VM's processes and files, and a second destroy is no error`, async (t) => {
    const before = snapshot()
    const info = await running('doomed')
    await line.destroy('doomed')
    if (info.pid !== undefined) t.true(processGone(info.pid))
    t.deepEqual(leftovers(before), { pids: [], files: [] })
    t.false((await line.list()).some((vm) => vm.vmid === 'doomed'))
    await t.throwsAsync(line.inspect('doomed'), { instanceOf: VmNotFoundError })
    await t.throwsAsync(line.recover('doomed', info.handle), { instanceOf: VmNotFoundError })
    await t.notThrowsAsync(line.destroy('doomed'))
  })

  test.serial(`${kind}: a clone aborted half-way leaves no process, no file and nothing in list`, async (t) => {
    let aborted = 0
    for (const ms of [0, 1, 2, 5, 10, 20, 50, 100]) {
      const vmid = `aborted-${ms}`
      const before = snapshot()
      try {
        await line.clone(needGolden(), vmid, { signal: AbortSignal.timeout(ms) })
        await line.destroy(vmid)
        continue
      } catch {
        aborted++
      }
      t.deepEqual(leftovers(before), { pids: [], files: [] }, `aborted after ${ms} ms`)
      t.false((await line.list()).some((vm) => vm.vmid === vmid))
      await t.throwsAsync(line.inspect(vmid), { instanceOf: VmNotFoundError })
    }
    t.log(`${aborted} of 8 clones were aborted`)
    t.true(aborted > 0, 'no clone was slow enough to be aborted')
  })

  test.serial(`${kind}: a new line over the same folders recovers a VM from its clone handle and runs an action in it`, async (t) => {
    const { handle } = await running('survivor')
    await line.runAction('survivor', { id: 'mark', run: `echo before-restart > ${target.privatePaths[0] as string}` })
    // the plant goes away without destroying its VMs
    await line.stop()
    const restarted = newLine()
    await restarted.start()
    line = restarted
    const info = await restarted.recover('survivor', JSON.parse(JSON.stringify(handle)))
    t.is(info.state, 'running')
    t.is(info.vmid, 'survivor')
    t.is((await restarted.runAction('survivor', { id: 'check', run: `cat ${target.privatePaths[0] as string}` })).stdout, 'before-restart\n')
    t.true((await restarted.list()).some((vm) => vm.vmid === 'survivor'))
    await restarted.destroy('survivor')
    await t.throwsAsync(restarted.recover('survivor', handle), { instanceOf: VmNotFoundError })
  })

  /** Runs line-child.js with `order`, and SIGKILLs it when `ready()` holds after it said `started`; says whether it had finished. */
  const killChild = async (t: ExecutionContext, order: Record<string, unknown>, ready: () => boolean): Promise<void> => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VMPLANT_LINE_CHILD: JSON.stringify({ kind, ...order }) } })
    children.add(child.pid as number)
    const exited = once(child, 'exit')
    // forgotten once reaped: the pid may be another process's later
    void exited.then(() => { children.delete(child.pid as number) })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const said = new Set<string>()
    createInterface({ input: child.stdout }).on('line', (word) => { said.add(word) })
    t.true(await until(() => said.has('started'), 30_000), `the child did not start: ${stderr}`)
    await until(ready, 30_000, 1)
    child.kill('SIGKILL')
    await exited
    t.log(said.has('done') ? 'the child had finished before the kill' : 'killed in the middle')
  }
  const killFolder = (): string => {
    const work = mkdtempSync(join(tmpdir(), `vmplant-${kind}k-`))
    extraFolders.push(work)
    return work
  }

  test.serial(`${kind}: a plant killed (SIGKILL) in the middle of a create leaves nothing, or a VM that list reports and destroy removes`, async (t) => {
    const work = killFolder()
    // at the first sign of the clone: a hypervisor process of the folder, or else its first VM file
    await killChild(t, { init: target.init({ work, golden: folders.golden }), golden: needGolden(), vmid: 'killed' },
      () => target.processes ? pidsMentioning(work).length > 0 : tree(join(work, 'vms')).length > 0)
    const after = newLine({ work, golden: folders.golden })
    await after.start()
    const found = await after.list()
    t.true(found.every((vm) => vm.vmid === 'killed'), JSON.stringify(found))
    for (const vm of found) await after.destroy(vm.vmid)
    t.deepEqual(await after.list(), [])
    await after.stop()
    t.true(await until(() => pidsMentioning(work).length === 0, 10_000, 20), `left running: ${pidsMentioning(work).join(', ')}`)
    t.deepEqual(tree(work).filter((f) => !/^(vms|run|line\.lock)$/.test(f) && target.lineFiles?.test(f) !== true), [])
  })

  test.serial(`${kind}: a plant killed (SIGKILL) in the middle of a golden build leaves no process and no build folder once a line starts again`, async (t) => {
    t.timeout(target.goldenTimeoutMs ?? 120_000)
    const work = killFolder()
    const request = { hardware: target.hardware, actions: [{ id: 'long', run: 'sleep 600', timeoutMs: 700_000 }] }
    // a build works in a hidden folder of the golden folder (clones name the golden folder too, but not those)
    const builders = (): number[] => pidsMentioning(folders.golden + '/.')
    const building = (): boolean => target.processes ? builders().length > 0 : true
    await killChild(t, { init: target.init({ work, golden: folders.golden }), request }, building)
    const after = newLine({ work, golden: folders.golden })
    await after.start()
    t.true(await until(() => builders().length === 0, 10_000, 20), `left running: ${builders().join(', ')}`)
    t.deepEqual(tree(folders.golden).filter((f) => f.startsWith('.')), [])
    await after.stop()
  })

  test.serial(`${kind}: stop with destroyAll leaves no process and no VM file`, async (t) => {
    const before = snapshot()
    await running('last-1')
    await line.stop({ destroyAll: true })
    t.deepEqual(leftovers(before).pids, [])
    t.deepEqual(target.processes ? pidsMentioning(folders.work) : [], [])
    t.deepEqual(tree(join(folders.work, 'vms')), [])
    const again = newLine()
    await again.start()
    line = again
    t.deepEqual(await again.list(), [])
  })
}
