import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { connectFramedAgent, type FramedAgentClient } from '../guest/index.js'
import { ProductionError, type AbortOptions, type GoldenImage } from '../index.js'
import { GOLDEN_FILES, readGoldenMeta } from './golden.js'
import { runIncoming } from './migrate.js'
import { DEFAULT_NIC_BACKEND, GUEST_NIC } from './nic.js'
import type { QemuLineInit } from './init.js'
import { killAndWait } from './process.js'
import { spawnIncoming, type IncomingVm } from './spawn-clone.js'
import { vmPaths } from './vm-store.js'

const log = logger('vmplant:plant:qemu:pool')

export interface PooledVm extends IncomingVm {
  token: string
  agent: FramedAgentClient
}

/**
 * Clones made ahead of demand, per golden image. Each is a complete clone that belongs to no
 * vmid yet: overlay made, device state loaded (the golden's NIC on the default user-mode backend),
 * then run for a moment (until its agent has answered a PING, a SETMAC and an action) so that TCG
 * has translated the code a clone runs first, and paused again. The clone's own MAC is set at resume, as for any clone; a clone
 * on another NIC backend (a tap) is made on demand. Nothing about a client is in it, so it is as
 * pristine as a clone made on demand; taking one writes its identity, resuming it is a `cont`.
 * Each costs QEMU's own private memory (about 40 MB, plus the translation cache and the few
 * pages the guest touched), not the guest's RAM; `poolSize` bounds them.
 * Pooled folders have no identity (vm.json), so a restarted line removes them as debris.
 */
export class WarmPool {
  private readonly ready = new Map<string, PooledVm[]>()
  private readonly filling = new Map<string, Promise<void>>()
  private readonly tokens = new Set<string>()
  private stopped = true

  constructor (private readonly init: QemuLineInit) {}

  start (): void { this.stopped = false }

  owns (token: string): boolean { return this.tokens.has(token) }

  size (goldenId: string): number { return this.ready.get(goldenId)?.length ?? 0 }

  /** QEMU processes waiting in the pool, over all golden images */
  total (): number {
    let n = 0
    for (const list of this.ready.values()) n += list.length
    return n
  }

  /** A ready process for the golden, or undefined; the caller owns it from now on. */
  take (goldenId: string): PooledVm | undefined {
    const entry = this.ready.get(goldenId)?.shift()
    if (entry !== undefined) this.tokens.delete(entry.token)
    return entry
  }

  /** Tops the pool up in the background. */
  fill (golden: GoldenImage): void {
    if (this.stopped || this.init.poolSize === 0 || this.filling.has(golden.id)) return
    const run = this.refill(golden).catch((err) => { log.error('warm pool for %s: %e', golden.id, err) })
      .finally(() => { this.filling.delete(golden.id) })
    this.filling.set(golden.id, run)
  }

  /** Fills the pool for the golden and waits until it is full (or its filling failed, which is logged); the signal ends the wait, not the filling. */
  async warm (golden: GoldenImage, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.fill(golden)
    const filling = this.filling.get(golden.id)
    if (filling === undefined) return
    if (options.signal === undefined) { await filling; return }
    const signal = options.signal
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
      void filling.finally(() => { signal.removeEventListener('abort', onAbort); resolve() })
    })
  }

  async stop (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.stopped = true
    await Promise.all(this.filling.values())
    for (const entries of this.ready.values()) {
      for (const entry of entries) await this.discard(entry)
    }
    this.ready.clear()
  }

  private async refill (golden: GoldenImage, options: AbortOptions = {}): Promise<void> {
    const meta = await readGoldenMeta(golden.dir, options)
    while (!this.stopped && this.size(golden.id) < this.init.poolSize) {
      const token = randomBytes(6).toString('hex')
      const paths = vmPaths(this.init.workDir, token)
      this.tokens.add(token)
      let vm: IncomingVm | undefined
      let agent: FramedAgentClient | undefined
      try {
        vm = await spawnIncoming(this.init, meta, golden.dir, paths, token, DEFAULT_NIC_BACKEND, options)
        await runIncoming(vm.qmp, join(golden.dir, GOLDEN_FILES.state), { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
        agent = await connectFramedAgent(paths.agent, options)
        await vm.qmp.execute('cont', undefined, options)
        await agent.ping({ signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
        // what a clone does first, so that TCG has translated it: the resume's SETMAC (to the MAC it has), an action
        if (meta.mac !== undefined) await agent.setMac(GUEST_NIC, meta.mac, { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
        const warmup = await agent.run({ id: 'pool-warmup', run: 'true', timeoutMs: 10_000 }, options)
        if (warmup.exitCode !== 0) throw new ProductionError(`pooled clone of ${golden.id} could not run an action: ${warmup.stderr.trim()}`)
        await vm.qmp.execute('stop', undefined, options)
        const entries = this.ready.get(golden.id) ?? []
        entries.push({ ...vm, token, agent })
        this.ready.set(golden.id, entries)
      } catch (err) {
        agent?.close()
        vm?.qmp.close()
        if (vm !== undefined) await killAndWait(vm.pid, token)
        this.tokens.delete(token)
        await rm(paths.dir, { recursive: true, force: true })
        throw err
      }
    }
  }

  private async discard (entry: PooledVm, options: AbortOptions = {}): Promise<void> {
    entry.agent.close()
    entry.qmp.close()
    await killAndWait(entry.pid, entry.token, options)
    await rm(vmPaths(this.init.workDir, entry.token).dir, { recursive: true, force: true })
    this.tokens.delete(entry.token)
  }
}
