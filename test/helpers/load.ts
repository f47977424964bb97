/**
 * Many creates in flight at once against one shop and N plants, each node its own OS process on
 * 127.0.0.1 (test/e2e/load-*.spec.ts and bench/load.ts): start the federation, fire the creates
 * from several client nodes, and check that every create was answered once and that the plants
 * hold exactly the VMs the clients were given.
 */
import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { plantStore } from '../../src/store/index.js'
import type { Classad, CreateResult, VmRecord } from '../../src/interface/index.js'
import { freePort, startNodeProcess, type NodeProcess } from './processes.js'
import { tempDir } from './temp.js'

export interface LoadFederationInit {
  /** the folder the nodes' configs and data go in; the caller removes it */
  dir: string
  plants: number
  /** the shop's config section */
  shop?: Record<string, unknown>
  /** the plants' config section (driver, cost, maxQueuedOrders) */
  plant?: Record<string, unknown>
  /** how long a node may take to start; @default 60000 */
  startTimeoutMs?: number
  /** a command every node runs under (startNodeProcess's `wrapper`), e.g. one that adds --cpu-prof */
  wrapper?: string[]
}

export interface LoadFederation {
  shop: NodeProcess
  /** the shop's multiaddr, with /p2p/<id> */
  shopAddr: string
  plants: NodeProcess[]
  /** each plant's data folder, in the order of `plants` */
  plantDirs: string[]
  /** SIGTERM to every plant (a graceful stop: their VMs stay), waited for */
  stopPlants(): Promise<void>
  /** starts every plant again from its config (same key, store and line folder) */
  restartPlants(): Promise<void>
  /** SIGKILL to every node still running, by pid */
  kill(): Promise<void>
}

/** Writes one shop's and `plants` plants' configs (JSON is YAML) and starts them, the plants at once. */
export async function startLoadFederation (init: LoadFederationInit): Promise<LoadFederation> {
  const timeoutMs = init.startTimeoutMs ?? 60_000
  const started: NodeProcess[] = []
  const kill = async (): Promise<void> => { await Promise.all(started.map(async (p) => p.kill())) }
  try {
    const port = await freePort()
    const shopConfig = join(init.dir, 'shop.yaml')
    await writeFile(shopConfig, JSON.stringify({ roles: ['shop'], listen: [`/ip4/127.0.0.1/tcp/${port}`], dataDir: 'shop', shop: init.shop ?? {} }))
    const shop = await startNodeProcess(shopConfig, timeoutMs, {}, init.wrapper)
    started.push(shop)
    const shopAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${shop.ready.peer}`
    const plantDirs: string[] = []
    const configs: string[] = []
    for (let i = 0; i < init.plants; i++) {
      const file = join(init.dir, `plant-${i}.yaml`)
      plantDirs.push(join(init.dir, `plant-${i}`))
      configs.push(file)
      await writeFile(file, JSON.stringify({ roles: ['plant'], listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [shopAddr], dataDir: `plant-${i}`, redialMs: 500, plant: init.plant ?? {} }))
    }
    const startPlants = async (): Promise<NodeProcess[]> => {
      const outcomes = await Promise.allSettled(configs.map(async (file) => {
        const plant = await startNodeProcess(file, timeoutMs, {}, init.wrapper)
        started.push(plant)
        return plant
      }))
      const failed = outcomes.find((o) => o.status === 'rejected')
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
      return outcomes.map((o) => (o as PromiseFulfilledResult<NodeProcess>).value)
    }
    const federation: LoadFederation = {
      shop,
      shopAddr,
      plants: await startPlants(),
      plantDirs,
      stopPlants: async () => { await Promise.all(federation.plants.map(async (p) => p.kill('SIGTERM'))) },
      restartPlants: async () => { federation.plants = await startPlants() },
      kill
    }
    return federation
  } catch (err) {
    await kill()
    throw err
  }
}

/** `count` started client nodes, each with its own key (so its own domains) and connection to the shop. */
export async function startClients (shopAddr: string, count: number): Promise<VmplantClient[]> {
  const clients = await Promise.all(Array.from({ length: count }, async () => new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519') })))
  await Promise.all(clients.map(async (c) => { await c.start() }))
  return clients
}

/**
 * Makes a VM on every plant, one create after another, then destroys them; resolves with the
 * number of creates it took. Each create is in a domain new to every plant, so the paper's cost
 * sends it to a plant that has no VM yet (of those it calls). Then the shop knows every plant as a bidder, and each
 * plant has its golden image (a QEMU plant builds it on its first create, which would otherwise
 * fall in the burst).
 */
export async function warmPlants (clients: VmplantClient[], spec: unknown, plants: string[], deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs
  const made: Array<{ vmid: string, client: VmplantClient }> = []
  const seen = new Set<string>()
  let tries = 0
  try {
    while (plants.some((p) => !seen.has(p))) {
      const client = clients[tries % clients.length] as VmplantClient
      tries++
      try {
        const result = await client.create(spec, `warm-${tries}`)
        made.push({ vmid: result.classad.vmid, client })
        seen.add(result.classad.plant)
      } catch (err) {
        // the shop may know no bidder yet
        if (Date.now() > until) throw err
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      if (Date.now() > until) throw new Error(`${seen.size} of ${plants.length} plants made a VM within ${deadlineMs} ms`)
    }
  } finally {
    for (const { vmid, client } of made) await client.destroy(vmid)
  }
  return tries
}

/** Makes (and destroys) VMs until one create had offers from `plants` bidders: then the shop knows them all. */
export async function waitForBidders (client: VmplantClient, spec: unknown, plants: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  let last = 'none'
  for (let heard = 0; heard < plants;) {
    try {
      const started = Date.now()
      const result = await client.create(spec, 'ready')
      heard = result.bidding.offers.length
      last = `${result.bidding.expected} bidder(s) called, ${result.bidding.answered} answered, in ${Date.now() - started} ms`
      await client.destroy(result.classad.vmid)
    } catch (err) {
      // the shop may know no bidder yet
      if (Date.now() > until) throw err
    }
    if (heard < plants && Date.now() > until) throw new Error(`only ${heard} of ${plants} plants bid within ${deadlineMs} ms (the last create: ${last})`)
  }
}

/** How one create ended: a VM, or an error the client was given (its class or remote code, and message). */
export type CreateOutcome =
  | { ok: true, result: CreateResult, client: number, ms: number }
  | { ok: false, code: string, message: string, client: number, ms: number }

/** Fires `total` creates at once, spread evenly over the clients; resolves when every one has been answered. */
export async function fireCreates (clients: VmplantClient[], total: number, spec: unknown, domain: string, onOutcome?: (outcome: CreateOutcome) => void): Promise<CreateOutcome[]> {
  return await Promise.all(Array.from({ length: total }, async (_, i): Promise<CreateOutcome> => {
    const client = i % clients.length
    const started = performance.now()
    let outcome: CreateOutcome
    try {
      const result = await (clients[client] as VmplantClient).create(spec, domain)
      outcome = { ok: true, result, client, ms: performance.now() - started }
    } catch (err: any) {
      outcome = { ok: false, code: typeof err?.code === 'string' ? err.code : err?.name ?? 'Error', message: err?.message ?? String(err), client, ms: performance.now() - started }
    }
    onOutcome?.(outcome)
    return outcome
  }))
}

/** Outcomes by kind: VMs made, busy refusals, other errors by code. */
export function countOutcomes (outcomes: CreateOutcome[]): { vms: number, busy: number, other: Record<string, number> } {
  const counts = { vms: 0, busy: 0, other: {} as Record<string, number> }
  for (const o of outcomes) {
    if (o.ok) counts.vms++
    else if (o.code === 'BusyError') counts.busy++
    else counts.other[o.code] = (counts.other[o.code] ?? 0) + 1
  }
  return counts
}

/** What every client's `list` shows, together (each client sees its own domain's VMs). */
export async function listAll (clients: VmplantClient[]): Promise<{ vms: Classad[], unreachable: string[] }> {
  const lists = await Promise.all(clients.map(async (c) => await c.list()))
  return { vms: lists.flatMap((l) => l.vms), unreachable: [...new Set(lists.flatMap((l) => l.unreachable))] }
}

/** The VMIDs the sim line of a plant holds (its VM files), read from its data folder. */
export async function simLineVms (plantDir: string): Promise<string[]> {
  const root = join(plantDir, 'line', 'vms')
  let names: string[]
  try {
    names = await readdir(root)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return []
    throw err
  }
  const vms = await Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(root, n), 'utf8')) as { vmid: string }))
  return vms.map((vm) => vm.vmid)
}

/**
 * The VM records in a plant's store: of a stopped plant, or with `copyTo`, of a copy made while the
 * plant runs (LevelDB's files, read by a store of their own; the plant must be idle, so that the
 * copy holds no half-written batch).
 */
export async function storeRecords (plantDir: string, copyTo?: string): Promise<VmRecord[]> {
  const where = copyTo ?? join(plantDir, 'store')
  if (copyTo !== undefined) await cp(join(plantDir, 'store'), copyTo, { recursive: true })
  const store = plantStore(where)
  await store.start()
  try {
    return await store.listVms()
  } finally {
    await store.stop()
  }
}

/**
 * Every problem with the VMs the plants hold against the creates that succeeded: a VMID given out
 * twice, a VM held by no plant or by two, a VM nobody was given, a VM on another plant than its
 * VMID names, or in another state than `state`. Empty when nothing was lost or duplicated.
 */
export function ledgerProblems (made: CreateResult[], held: Array<{ vmid: string, plant: string, state?: string, requestId?: string }>, state = 'running'): string[] {
  const problems: string[] = []
  const given = new Map<string, CreateResult>()
  for (const r of made) {
    if (given.has(r.classad.vmid)) problems.push(`${r.classad.vmid} was given to two creates`)
    given.set(r.classad.vmid, r)
  }
  const seen = new Map<string, number>()
  for (const vm of held) {
    seen.set(vm.vmid, (seen.get(vm.vmid) ?? 0) + 1)
    const result = given.get(vm.vmid)
    if (result === undefined) { problems.push(`${vm.vmid} on ${vm.plant} was given to no create`); continue }
    if (!vm.vmid.endsWith(`.${vm.plant}`)) problems.push(`${vm.vmid} is held by ${vm.plant}, not the plant its VMID names`)
    if (result.classad.plant !== vm.plant) problems.push(`${vm.vmid} was made by ${result.classad.plant} but is held by ${vm.plant}`)
    if (vm.state !== undefined && vm.state !== state) problems.push(`${vm.vmid} is ${vm.state}, not ${state}`)
    if (vm.requestId !== undefined && vm.requestId !== result.bidding.requestId) problems.push(`${vm.vmid}'s record names request ${vm.requestId}, its create was ${result.bidding.requestId}`)
  }
  for (const [vmid, n] of seen) if (n > 1) problems.push(`${vmid} is held ${n} times`)
  for (const vmid of given.keys()) if (!seen.has(vmid)) problems.push(`${vmid} was given out but no plant holds it`)
  return problems
}

/** Destroys the VMs, at most `concurrency` at once per client; resolves with the errors, by VMID. */
export async function destroyAll (clients: VmplantClient[], made: Array<{ result: CreateResult, client: number }>, concurrency = 25): Promise<Array<{ vmid: string, error: string }>> {
  const errors: Array<{ vmid: string, error: string }> = []
  await Promise.all(clients.map(async (client, i) => {
    const mine = made.filter((m) => m.client === i).map((m) => m.result.classad.vmid)
    const worker = async (): Promise<void> => {
      for (let vmid = mine.shift(); vmid !== undefined; vmid = mine.shift()) {
        try {
          await client.destroy(vmid)
        } catch (err: any) {
          errors.push({ vmid, error: err?.message ?? String(err) })
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }))
  return errors
}

/** What a load test starts; the test's teardown ends it all (see `loadTest`). */
export interface LoadTest {
  dir: Awaited<ReturnType<typeof tempDir>>
  /** startLoadFederation in `dir` */
  start: (init: Omit<LoadFederationInit, 'dir'>) => Promise<LoadFederation>
  /** startClients against the started federation's shop */
  connect: (count: number) => Promise<VmplantClient[]>
}

/**
 * A temporary folder for one load test, with a teardown that stops its clients, kills its nodes
 * by pid, runs `afterKill` (what the killed nodes left, e.g. VM processes), and removes the folder.
 */
export async function loadTest (t: { teardown: (fn: () => Promise<void>) => void }, options: { prefix?: string, afterKill?: (federation: LoadFederation | undefined, dir: string) => Promise<void> } = {}): Promise<LoadTest> {
  const dir = await tempDir(options.prefix)
  let federation: LoadFederation | undefined
  const clients: VmplantClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map(async (c) => { await c.stop() }))
    await federation?.kill()
    await options.afterKill?.(federation, dir.path)
    await dir.remove()
  })
  return {
    dir,
    start: async (init) => { federation = await startLoadFederation({ ...init, dir: dir.path }); return federation },
    connect: async (count) => {
      if (federation === undefined) throw new Error('start the federation before connecting clients')
      const started = await startClients(federation.shopAddr, count)
      clients.push(...started)
      return started
    }
  }
}
