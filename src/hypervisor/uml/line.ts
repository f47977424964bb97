import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { ProductionError, VmNotFoundError, type AbortOptions, type ActionResult, type GoldenImage, type GoldenRequest, type GuestAction, type ProductionLine, type VmInfo, type VmState } from '../index.js'
import type { GuestAgentClient } from '../guest/agent-client.js'
import { openPtsAgent, waitForAgent } from './agent.js'
import { bootUml, LPJ_FILE } from './boot.js'
import { writeCowFile } from './cow.js'
import { prepareUmlGolden } from './golden.js'
import type { UmlLineInit } from './init.js'
import { pssKB, scanUml, stopVm } from './process.js'
import { listRecords, readRecord, umidOf, vmPaths, vmToken, writeRecord, type UmlVmRecord } from './vm-store.js'

const log = logger('vmplant:plant:uml')

/** How long a re-opened agent line may take to answer a ping. */
const REATTACH_TIMEOUT_MS = 5_000

/**
 * The user-mode Linux line. All it knows of a VM is in the VM's record and in /proc, so a new line
 * object over the same work folder (a restarted plant) finds the running VMs and talks to them.
 */
export class UmlLine implements ProductionLine {
  readonly kind = 'uml' as const
  /** open agent channels, by vmid; opened again on demand after a restart */
  private readonly agents = new Map<string, GuestAgentClient>()
  /** vmids with a clone, resume or destroy in progress in this process */
  private readonly busy = new Set<string>()

  constructor (readonly init: UmlLineInit) {}

  async start (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await mkdir(join(this.init.workDir, 'vms'), { recursive: true })
    await mkdir(join(this.init.workDir, 'run'), { recursive: true })
    await mkdir(this.init.goldenDir, { recursive: true })
    // debris of a clone the previous plant did not finish: no process, so its files go
    const { records, strays } = await listRecords(this.init.workDir, options)
    for (const record of records.filter((r) => r.phase === 'creating' && !this.busy.has(r.vmid))) await this.remove(record.token, record.pid, options)
    for (const token of strays) await this.remove(token, undefined, options)
  }

  async stop (options: AbortOptions & { destroyAll?: boolean } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    for (const agent of this.agents.values()) agent.close()
    this.agents.clear()
    if (options.destroyAll !== true) return
    const { records } = await listRecords(this.init.workDir, options)
    for (const record of records) await this.destroy(record.vmid, options)
  }

  memoryCostMB (memoryMB: number): number {
    return memoryMB + this.init.overheadMB
  }

  async prepareGolden (request: GoldenRequest, options: AbortOptions = {}): Promise<GoldenImage> {
    return await prepareUmlGolden(this.init, request, options)
  }

  /** A clone is a COW file over the golden root file system; nothing runs yet. */
  async clone (golden: GoldenImage, vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    const disk = golden.artifacts.disk
    if (golden.line !== this.kind || disk === undefined) throw new ProductionError(`golden ${golden.id} was not made by the uml line`)
    const token = vmToken(this.init.workDir, vmid)
    return await this.exclusive(vmid, async () => {
      if (await readRecord(this.init.workDir, token, options) !== undefined) throw new ProductionError(`VM ${vmid} already exists`)
      const paths = vmPaths(this.init.workDir, token)
      const record: UmlVmRecord = {
        version: 1, vmid, token, umid: umidOf(token), goldenId: golden.id, base: join(golden.dir, disk),
        memoryMB: golden.hardware.memoryMB, phase: 'creating', createdAt: Date.now()
      }
      try {
        await writeRecord(this.init.workDir, record, options)
        await writeCowFile(paths.cow, record.base, options)
        await writeRecord(this.init.workDir, { ...record, phase: 'cloned' }, options)
      } catch (err) {
        await rm(paths.dir, { recursive: true, force: true })
        throw err
      }
      log('cloned %s from golden %s', vmid, golden.id)
      return { vmid, state: 'stopped', goldenId: golden.id }
    })
  }

  /** Boots the clone; a VM that runs already is left as it is, one that died is booted again. */
  async resume (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    options.signal?.throwIfAborted()
    return await this.exclusive(vmid, async () => {
      const record = await this.record(vmid, options)
      if (record.phase === 'creating') throw new ProductionError(`VM ${vmid} is still being cloned`)
      const pids = (await scanUml(options)).get(record.umid) ?? []
      if (pids.length > 0) return await this.info(record, pids, options)
      const paths = vmPaths(this.init.workDir, record.token)
      await rm(join(paths.umlDir, record.umid), { recursive: true, force: true })
      try {
        const booted = await bootUml({
          binary: this.init.umlBinary,
          umid: record.umid,
          umlDir: paths.umlDir,
          disk: paths.cow,
          base: record.base,
          memoryMB: record.memoryMB,
          consoleLog: paths.console,
          hostname: `vm-${record.token.slice(0, 8)}`,
          timeoutMs: this.init.bootTimeoutMs,
          kernelArgs: this.init.kernelArgs,
          lpjFile: join(this.init.workDir, LPJ_FILE)
        }, async (pid) => {
          await writeRecord(this.init.workDir, { ...record, phase: 'booting', pid, startedAt: Date.now() }, options)
        }, options)
        this.agents.get(vmid)?.close()
        this.agents.set(vmid, booted.agent)
        const running: UmlVmRecord = { ...record, phase: 'running', pid: booted.pid, pts: booted.pts, startedAt: Date.now() }
        // not abortable: the VM runs now, and its record must say so
        await writeRecord(this.init.workDir, running, {})
        return { vmid, state: 'running', goldenId: record.goldenId, pid: booted.pid }
      } catch (err) {
        // bootUml has killed what it started; the clone stays, ready for another try or destroy
        await writeRecord(this.init.workDir, { ...record, phase: 'cloned', pid: undefined, pts: undefined }, {})
        throw err
      }
    })
  }

  async runAction (vmid: string, action: GuestAction, options: AbortOptions = {}): Promise<ActionResult> {
    options.signal?.throwIfAborted()
    const record = await this.record(vmid, options)
    const pids = (await scanUml(options)).get(record.umid) ?? []
    const state = stateOf(record, pids)
    if (state !== 'running') throw new ProductionError(`VM ${vmid} is ${state}, not running`)
    if (record.phase !== 'running' || record.pts === undefined) throw new ProductionError(`VM ${vmid} is still booting`)
    const agent = await this.agent(record, options)
    return await agent.run(action, options)
  }

  async inspect (vmid: string, options: AbortOptions = {}): Promise<VmInfo> {
    const record = await this.record(vmid, options)
    return await this.info(record, (await scanUml(options)).get(record.umid) ?? [], options)
  }

  /** Kills every process of the VM (checking that none is left) and removes its folder. */
  async destroy (vmid: string, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.exclusive(vmid, async () => {
      this.agents.get(vmid)?.close()
      this.agents.delete(vmid)
      const token = vmToken(this.init.workDir, vmid)
      await this.remove(token, (await readRecord(this.init.workDir, token, options))?.pid, options)
      log('destroyed %s', vmid)
    })
  }

  async list (options: AbortOptions = {}): Promise<VmInfo[]> {
    options.signal?.throwIfAborted()
    const { records } = await listRecords(this.init.workDir, options)
    const processes = await scanUml(options)
    const infos: VmInfo[] = []
    for (const record of records) infos.push(await this.info(record, processes.get(record.umid) ?? [], options))
    return infos
  }

  /** The umid the VM's processes carry on their command lines (`pgrep -f <umid>`). */
  umid (vmid: string): string {
    return umidOf(vmToken(this.init.workDir, vmid))
  }

  async ping (vmid: string, options: AbortOptions & { timeoutMs?: number } = {}): Promise<void> {
    const record = await this.record(vmid, options)
    await (await this.agent(record, options)).ping(options)
  }

  private async agent (record: UmlVmRecord, options: AbortOptions = {}): Promise<GuestAgentClient> {
    const open = this.agents.get(record.vmid)
    if (open !== undefined && !open.isClosed) return open
    if (record.pts === undefined) throw new ProductionError(`VM ${record.vmid} has no agent line`)
    const agent = await openPtsAgent(record.pts, options)
    try {
      await waitForAgent(agent, Date.now() + REATTACH_TIMEOUT_MS, () => undefined, options)
    } catch (err) {
      agent.close()
      throw new ProductionError(`the agent of VM ${record.vmid} does not answer on ${record.pts}`, { cause: err })
    }
    this.agents.set(record.vmid, agent)
    return agent
  }

  private async info (record: UmlVmRecord, pids: number[], options: AbortOptions = {}): Promise<VmInfo> {
    const info: VmInfo = { vmid: record.vmid, state: stateOf(record, pids), goldenId: record.goldenId }
    if (pids.length > 0 && record.pid !== undefined) info.pid = record.pid
    const rssKB = pids.length > 0 ? await pssKB(pids, options) : undefined
    if (rssKB !== undefined) info.rssKB = rssKB
    return info
  }

  private async record (vmid: string, options: AbortOptions = {}): Promise<UmlVmRecord> {
    const record = await readRecord(this.init.workDir, vmToken(this.init.workDir, vmid), options)
    if (record === undefined) throw new VmNotFoundError(vmid)
    return record
  }

  /** Kills whatever runs under the token's umid and removes its folders; the record goes last, so a failure leaves it findable. */
  private async remove (token: string, pgid: number | undefined, options: AbortOptions = {}): Promise<void> {
    const paths = vmPaths(this.init.workDir, token)
    await stopVm(this.init.mconsoleBinary, paths.mconsole, umidOf(token), pgid, options)
    await rm(join(paths.umlDir, umidOf(token)), { recursive: true, force: true })
    await rm(paths.cow, { force: true })
    await rm(paths.dir, { recursive: true, force: true })
  }

  private async exclusive<T> (vmid: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(vmid)) throw new ProductionError(`VM ${vmid} is busy with another operation`)
    this.busy.add(vmid)
    try {
      return await fn()
    } finally {
      this.busy.delete(vmid)
    }
  }
}

/** running while a process carries the umid; a VM that was started and has none left has crashed. */
function stateOf (record: UmlVmRecord, pids: number[]): VmState {
  if (pids.length > 0) return 'running'
  return record.phase === 'booting' || record.phase === 'running' ? 'crashed' : 'stopped'
}
