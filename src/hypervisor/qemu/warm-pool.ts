import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { connectFramedAgent, type FramedAgentClient } from '../guest/index.js'
import { ProductionError, type AbortOptions, type GoldenImage } from '../index.js'
import { isAlive } from '../proc.js'
import { GOLDEN_FILES, readGoldenMeta } from './golden.js'
import { runIncoming } from './migrate.js'
import { GUEST_NIC } from './nic.js'
import type { QemuLineInit } from './init.js'
import { arrivalRate, poolTarget } from './pool-sizing.js'
import { availableMB, canRestorePriority, killAndWait, readPssKB, setProcessPriority } from './process.js'
import { spawnIncoming, type IncomingVm } from './spawn-clone.js'
import { vmPaths } from './vm-store.js'

const log = logger('vmplant:plant:qemu:pool')

/** how often a grown pool is checked against its target when no clone asks */
const TRIM_INTERVAL_MS = 10_000
/** weight of the newest refill in the refill time's moving average */
const REFILL_WEIGHT = 0.3

export interface PooledVm extends IncomingVm {
  token: string
  agent: FramedAgentClient
  /** what it costs the host, measured once it waits (PSS, else RSS), in KiB */
  sizeKB: number
  /** whether its golden has a NIC (then it sits on a hub port until claimed) */
  nic: boolean
}

/**
 * Clones made ahead of demand, per golden image. Each is a complete clone that belongs to no
 * vmid yet: overlay made, device state loaded, its NIC (the golden's device) on a port of an
 * otherwise empty QEMU hub, then run for a moment (until its agent has answered a PING, a SETMAC
 * and an action) so that TCG has translated the code a clone runs first, and paused again. The
 * clone that claims it plugs its own backend into the hub (user-mode, or a tap on a domain's
 * bridge: `plugBackend`), so one pool serves every kind of clone. Nothing about a client is in
 * it; taking one writes its identity, resuming it is a `cont`.
 *
 * Filling runs in the background, up to `poolSize` per golden, with at most `poolSpawns` QEMU
 * processes starting at once over all goldens. A pool grows beyond `poolSize`, up to `poolMax`,
 * to what the recent claims ask for while one refill runs (`poolTarget`: claims per second ×
 * refill time, within half the host's available memory), and shrinks back a minute after they stop.
 * With `poolNiceness`, where the line may raise a process's priority again, refills start niced
 * and get the normal priority when claimed, so that they use what CPU clones being made leave.
 * A spawn that fails stops the filling of its golden until the next `fill` (a clone, a `warm`),
 * so a broken golden is not retried in a loop.
 * Pooled folders have no identity (vm.json), so a restarted line removes them as debris.
 */
export class WarmPool {
  private readonly ready = new Map<string, PooledVm[]>()
  private readonly spawning = new Map<string, number>()
  private readonly wanted = new Map<string, GoldenImage>()
  private readonly failed = new Set<string>()
  private readonly waiters = new Map<string, Array<() => void>>()
  private readonly running = new Set<Promise<void>>()
  private readonly tokens = new Set<string>()
  /** when each golden's processes were claimed (ms, oldest first; the last few only) */
  private readonly claims = new Map<string, number[]>()
  /** moving average of how long a refill takes, ms; undefined until one finished */
  private refillMs: number | undefined
  private niceness: number | undefined
  private trimTimer: NodeJS.Timeout | undefined
  private inFlight = 0
  private stopped = true

  constructor (private readonly init: QemuLineInit) {}

  start (): void {
    this.stopped = false
    // a refill takes the CPU only when clones being made leave some, if it can be given its priority back
    this.niceness = this.init.poolNiceness > 0 && canRestorePriority() ? this.init.poolNiceness : undefined
    if (this.init.poolMax > this.init.poolSize) {
      this.trimTimer = setInterval(() => { this.trim() }, TRIM_INTERVAL_MS)
      this.trimTimer.unref()
    }
  }

  /** How many processes the golden's pool should hold now: `poolSize`, or more while clones are claimed faster than one refill takes. */
  target (goldenId: string, now = Date.now()): number {
    const min = this.init.poolSize
    if (this.init.poolMax <= min) return min
    const sizes = [...this.ready.values()].flat().map((e) => e.sizeKB / 1024)
    const processMB = sizes.length > 0 ? sizes.reduce((a, b) => a + b, 0) / sizes.length : this.init.overheadMB
    const available = availableMB()
    return poolTarget({
      min,
      max: this.init.poolMax,
      ratePerSecond: arrivalRate(this.claims.get(goldenId) ?? [], now),
      refillMs: this.refillMs ?? 0,
      // half of what the host has left: the other half is for the clones themselves
      spareMB: available === undefined ? 0 : available / 2,
      processMB
    })
  }

  owns (token: string): boolean { return this.tokens.has(token) }

  size (goldenId: string): number { return this.ready.get(goldenId)?.length ?? 0 }

  /** QEMU processes waiting in the pool, over all golden images */
  total (): number {
    let n = 0
    for (const list of this.ready.values()) n += list.length
    return n
  }

  /**
   * Host memory the pool holds, in MB: each waiting process at its measured size, each one
   * still starting at the line's `overheadMB` until it is measured.
   */
  reservedMB (): number {
    let kb = 0
    for (const list of this.ready.values()) for (const entry of list) kb += entry.sizeKB
    return Math.ceil(kb / 1024) + this.inFlight * this.init.overheadMB
  }

  /** A ready process for the golden at normal priority, or undefined; the caller owns it from now on. */
  async take (goldenId: string): Promise<PooledVm | undefined> {
    if (this.init.poolSize === 0) return undefined
    const times = this.claims.get(goldenId) ?? []
    times.push(Date.now())
    this.claims.set(goldenId, times.slice(-16))
    const list = this.ready.get(goldenId)
    while (list !== undefined && list.length > 0) {
      const entry = list.shift() as PooledVm
      if (isAlive(entry.pid, entry.token)) {
        if (this.niceness !== undefined && !await setProcessPriority(entry.pid, 0)) log.error('could not give the pooled process %d its priority back', entry.pid)
        // owned until here, so that a reconcile meanwhile does not take it for debris
        this.tokens.delete(entry.token)
        this.remeasure()
        return entry
      }
      this.tokens.delete(entry.token)
      // killed behind the line's back: its folder is debris
      log.error('pooled process %d of %s is gone', entry.pid, goldenId)
      void this.discard(entry).catch(() => {})
    }
    return undefined
  }

  /** Tops the pool of the golden up in the background (to its target), or trims it down to it. */
  fill (golden: GoldenImage): void {
    if (this.stopped || this.init.poolSize === 0) return
    this.failed.delete(golden.id)
    this.wanted.set(golden.id, golden)
    this.trim()
    this.pump()
  }

  /** Discards the newest waiting processes of pools above their target (claims slowed down). */
  private trim (): void {
    if (this.stopped) return
    for (const [goldenId, list] of this.ready) {
      const excess = list.length + (this.spawning.get(goldenId) ?? 0) - this.target(goldenId)
      for (const entry of list.splice(Math.max(0, list.length - Math.max(0, excess)))) {
        log('pool of %s above its target: discarding process %d', goldenId, entry.pid)
        // tracked, so that stop() waits for it
        const gone: Promise<void> = this.discard(entry)
          .catch((err) => { log.error('could not discard pooled process %d: %e', entry.pid, err) })
          .finally(() => { this.running.delete(gone) })
        this.running.add(gone)
      }
    }
  }

  /** Fills the pool for the golden and waits until it is full (or a spawn failed, which is logged); the signal ends the wait, not the filling. */
  async warm (golden: GoldenImage, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.fill(golden)
    if (this.settled(golden.id)) return
    const signal = options.signal
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const list = this.waiters.get(golden.id) ?? []
      list.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
      this.waiters.set(golden.id, list)
    })
  }

  async stop (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.stopped = true
    clearInterval(this.trimTimer)
    this.trimTimer = undefined
    this.wanted.clear()
    await Promise.allSettled([...this.running])
    for (const entries of this.ready.values()) {
      for (const entry of entries) await this.discard(entry)
    }
    this.ready.clear()
    for (const id of [...this.waiters.keys()]) this.notify(id)
  }

  /** nothing more will happen for the golden until the next fill: full, stopped, or failed with no spawn left */
  private settled (goldenId: string): boolean {
    if (this.stopped || this.size(goldenId) >= this.init.poolSize) return true
    return this.failed.has(goldenId) && (this.spawning.get(goldenId) ?? 0) === 0
  }

  private notify (goldenId: string): void {
    if (!this.settled(goldenId)) return
    const list = this.waiters.get(goldenId) ?? []
    this.waiters.delete(goldenId)
    for (const resolve of list) resolve()
  }

  /** Starts spawns while there are free slots and pools below their size. */
  private pump (): void {
    while (!this.stopped && this.inFlight < this.init.poolSpawns) {
      const next = [...this.wanted.values()].find((g) => !this.failed.has(g.id) && this.size(g.id) + (this.spawning.get(g.id) ?? 0) < this.target(g.id))
      if (next === undefined) return
      this.inFlight++
      this.spawning.set(next.id, (this.spawning.get(next.id) ?? 0) + 1)
      const run = this.spawnOne(next)
        .catch((err) => {
          this.failed.add(next.id)
          log.error('warm pool for %s: %e', next.id, err)
        })
        .finally(() => {
          this.inFlight--
          this.spawning.set(next.id, (this.spawning.get(next.id) ?? 1) - 1)
          this.running.delete(run)
          this.notify(next.id)
          this.pump()
        })
      this.running.add(run)
    }
  }

  private async spawnOne (golden: GoldenImage, options: AbortOptions = {}): Promise<void> {
    const meta = await readGoldenMeta(golden.dir, options)
    const token = randomBytes(6).toString('hex')
    const paths = vmPaths(this.init.workDir, token)
    this.tokens.add(token)
    let vm: IncomingVm | undefined
    let agent: FramedAgentClient | undefined
    const started = Date.now()
    try {
      vm = await spawnIncoming(this.init, meta, golden.dir, paths, token, { type: 'hub' }, { ...options, niceness: this.niceness })
      await runIncoming(vm.qmp, join(golden.dir, GOLDEN_FILES.state), { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
      agent = await connectFramedAgent(paths.agent, options)
      await vm.qmp.execute('cont', undefined, options)
      await agent.ping({ signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
      // what a clone does first, so that TCG has translated it: the resume's SETMAC (to the MAC it has), an action
      if (meta.mac !== undefined) await agent.setMac(GUEST_NIC, meta.mac, { signal: options.signal, timeoutMs: this.init.cloneTimeoutMs })
      const warmup = await agent.run({ id: 'pool-warmup', run: 'true', timeoutMs: 10_000 }, options)
      if (warmup.exitCode !== 0) throw new ProductionError(`pooled clone of ${golden.id} could not run an action: ${warmup.stderr.trim()}`)
      await vm.qmp.execute('stop', undefined, options)
      const sizeKB = await readPssKB(vm.pid)
      if (sizeKB === undefined) throw new ProductionError(`pooled clone of ${golden.id} (pid ${vm.pid}) is gone`)
      const took = Date.now() - started
      this.refillMs = this.refillMs === undefined ? took : this.refillMs + REFILL_WEIGHT * (took - this.refillMs)
      const entry: PooledVm = { ...vm, token, agent, sizeKB, nic: meta.mac !== undefined }
      if (this.stopped) { await this.discard(entry); return }
      const entries = this.ready.get(golden.id) ?? []
      entries.push(entry)
      this.ready.set(golden.id, entries)
      this.remeasure()
    } catch (err) {
      agent?.close()
      vm?.qmp.close()
      if (vm !== undefined) await killAndWait(vm.pid, token)
      this.tokens.delete(token)
      await rm(paths.dir, { recursive: true, force: true })
      throw err
    }
  }

  /** the waiting processes share the golden's pages, so each one's PSS changes as others come and go */
  private remeasure (): void {
    const entries = [...this.ready.values()].flat()
    void Promise.all(entries.map(async (entry) => {
      const kb = await readPssKB(entry.pid)
      if (kb !== undefined) entry.sizeKB = kb
    })).catch(() => {})
  }

  private async discard (entry: PooledVm, options: AbortOptions = {}): Promise<void> {
    entry.agent.close()
    entry.qmp.close()
    await killAndWait(entry.pid, entry.token, options)
    await rm(vmPaths(this.init.workDir, entry.token).dir, { recursive: true, force: true })
    this.tokens.delete(entry.token)
  }
}
