import type { ExecutionContext } from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { classadSchema, createResultSchema, destroyResultSchema, listResultSchema, type Command, type CreateProgress, type CreateResult } from '../../src/interface/index.js'
import type { Delivery } from '../../src/edges/index.js'
import { waitForBidders } from '../../src/daemon/embedded.js'
import { VmplantClient, type ClientEvent } from '../../src/cli/client.js'
import { createNode } from '../../src/net/node.js'
import { warehouseProtocol } from '../../src/net/protocols/warehouse/index.js'
import { startSimFederation } from '../../sim/federation.js'
import { nodeSet } from '../helpers/nodes.js'

/**
 * One federation in two worlds, libp2p on 127.0.0.1 and the simulator's in-memory network, with
 * the same parts: a shop, a site `east` with a broker and one plant, and a plant called directly.
 * Each world logs every command its edge tables deliver, with the kind of its answer.
 */
export interface World {
  /** what the edge tables delivered, in order: the command and the kind of its answer */
  log: Array<{ command: Command, kind: string }>
  create(spec: unknown, domain: string, onProgress?: (event: CreateProgress) => void): Promise<CreateResult>
  query(vmid: string): Promise<unknown>
  list(): Promise<unknown>
  destroy(vmid: string): Promise<unknown>
  /** a client's read of the direct plant's warehouse */
  warehouseList(): Promise<unknown>
  /** waits until the log has a delivery that `match` takes (the libp2p world on the wall clock, the simulator's on its own) */
  waitFor(match: (entry: { command: Command, kind: string }) => boolean): Promise<void>
}

/** The kind of an answer: which of the contract's results it parses as, or an error's class. */
export function kindOf (outcome: Delivery['outcome']): string {
  if (!outcome.ok) return `error ${(outcome.error as Error | undefined)?.name ?? 'unknown'}`
  const value = outcome.value
  if (value === undefined) return 'none'
  const schemas = { 'create result': createResultSchema, classad: classadSchema, 'list result': listResultSchema, 'destroy result': destroyResultSchema }
  for (const [kind, schema] of Object.entries(schemas)) if (schema.safeParse(value).success) return kind
  if (Array.isArray(value)) return value.every((v) => classadSchema.safeParse(v).success) ? 'classads' : 'array'
  return typeof value === 'object' && value !== null ? `object {${Object.keys(value).sort().join(', ')}}` : typeof value
}

function logger (): { log: World['log'], record: (delivery: Delivery) => void, changed: (wake: () => void) => () => void } {
  const log: World['log'] = []
  const waiters = new Set<() => void>()
  return {
    log,
    record: (delivery) => {
      log.push({ command: delivery.command, kind: kindOf(delivery.outcome) })
      for (const wake of waiters) wake()
    },
    changed: (wake) => { waiters.add(wake); return () => { waiters.delete(wake) } }
  }
}

/** the libp2p world: real nodes on 127.0.0.1, stopped when the test ends */
export async function libp2pWorld (t: ExecutionContext): Promise<World> {
  const { start } = await nodeSet(t)
  const { log, record, changed } = logger()
  const onDelivered = record
  const shop = await start('shop', { roles: ['shop'], shop: { bidWindowMs: 3000 } }, undefined, { onDelivered })
  const broker = await start('broker', { roles: ['broker'], site: 'east', bootstrap: [shop.multiaddrs[0]] }, undefined, { onDelivered })
  await start('east-0', { roles: ['plant'], site: 'east', bootstrap: [broker.multiaddrs[0]] }, undefined, { onDelivered })
  const direct = await start('direct', { roles: ['plant'], bootstrap: [shop.multiaddrs[0]] }, undefined, { onDelivered })
  await waitForBidders(shop, [broker.peerId, direct.peerId], AbortSignal.timeout(20_000))
  const steps: CreateProgress[] = []
  const client = new VmplantClient({ shop: shop.multiaddrs[0] as string, privateKey: await generateKeyPair('Ed25519'), onEvent: (event: ClientEvent) => { if (event.type === 'progress') steps.push(event.event) } })
  await client.start()
  const reader = await createNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
  await reader.start()
  t.teardown(async () => { await client.stop(); await reader.stop() })
  const waitFor: World['waitFor'] = async (match) => {
    const deadline = AbortSignal.timeout(30_000)
    while (!log.some(match)) {
      deadline.throwIfAborted()
      await new Promise<void>((resolve) => {
        const stop = changed(() => { stop(); resolve() })
        setTimeout(() => { stop(); resolve() }, 200)
      })
    }
  }
  return {
    log,
    create: async (spec, domain, onProgress) => {
      steps.length = 0
      try {
        return await client.create(spec, domain)
      } finally {
        for (const step of steps) onProgress?.(step)
      }
    },
    query: async (vmid) => await client.query(vmid),
    list: async () => await client.list(),
    destroy: async (vmid) => await client.destroy(vmid),
    warehouseList: async () => await warehouseProtocol({ libp2p: reader }).read(multiaddr(direct.multiaddrs[0] as string), { type: 'warehouse.list' }),
    waitFor
  }
}

/** base58 peer ids, so that the simulator's VMIDs and results parse as the contract's */
const EAST_PLANT = '12D3KooWSimPEastAAAA'
const DIRECT_PLANT = '12D3KooWSimPDirectAAA'

/** the simulator's world: the real actors on a virtual clock, stopped when the test ends */
export async function simWorld (t: ExecutionContext): Promise<World> {
  const { log, record } = logger()
  const federation = await startSimFederation({
    plants: [{ site: 'east', peer: EAST_PLANT }, { peer: DIRECT_PLANT }],
    brokers: [{ site: 'east', peer: '12D3KooWSimBEastAAAA' }],
    shop: { bidWindowMs: 3000 },
    onDelivered: (_peer, delivery) => { record(delivery) }
  })
  t.teardown(federation.stop)
  const { clock, client, network } = federation
  // as the libp2p world waits for its bidders: gossip reaches them, the plant reports its load
  await clock.run(clock.sleep(1000))
  return {
    log,
    create: async (spec, domain, onProgress) => await federation.create(spec, domain, undefined, { onProgress }),
    query: async (vmid) => await clock.run(client.query(vmid)),
    list: async () => await clock.run(client.list()),
    destroy: async (vmid) => await clock.run(client.destroy(vmid)),
    warehouseList: async () => await clock.run(network.request(DIRECT_PLANT, { to: 'plant', type: 'warehouse.read', request: { type: 'warehouse.list' } }, await client.peerOf())),
    waitFor: async (match) => {
      for (let waited = 0; !log.some(match); waited += 100) {
        if (waited > 600_000) throw new Error('no such delivery within 10 virtual minutes')
        await clock.run(clock.sleep(100))
      }
    }
  }
}
