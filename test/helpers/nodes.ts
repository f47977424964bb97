import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { VmplantNode, type VmplantNodeOptions } from '../../src/daemon/vmplant-node.js'
import { validateNodeConfig } from '../../src/daemon/config.js'
import { tempDir } from './temp.js'
import type { Message } from '../../src/actors/runtime/index.js'

export interface NodeSet {
  /** the test's folder; each node's dataDir is a sub-folder named after it */
  dir: string
  /** starts a node from a partial config, on 127.0.0.1; `trace` sees every message to its actors */
  start(name: string, config: Record<string, unknown>, trace?: (actor: string, message: Message) => void, options?: VmplantNodeOptions): Promise<VmplantNode>
}

/** Nodes of one test in one process, stopped (with their VMs) and their folder removed when the test ends. */
export async function nodeSet (t: ExecutionContext): Promise<NodeSet> {
  const dir = await tempDir()
  const nodes: VmplantNode[] = []
  t.teardown(async () => {
    await Promise.all(nodes.map(async (n) => n.stop({ destroyVms: true })))
    await dir.remove()
  })
  return {
    dir: dir.path,
    start: async (name, config, trace, options = {}) => {
      const node = new VmplantNode(validateNodeConfig({ dataDir: join(dir.path, name), listen: ['/ip4/127.0.0.1/tcp/0'], ...config }), { name, ...options, ...(trace !== undefined ? { trace } : {}) })
      nodes.push(node)
      await node.start()
      return node
    }
  }
}

/** Resolves once the node's DHT routing table has a peer: before that a lookup has no one to ask. */
export async function dhtReady (node: VmplantNode, signal: AbortSignal): Promise<void> {
  const table = (node.libp2p!.services.dht as unknown as { routingTable: EventTarget & { size: number } }).routingTable
  while (table.size === 0) {
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { signal.removeEventListener('abort', done); table.removeEventListener('peer:add', done); signal.aborted ? reject(signal.reason) : resolve() }
      table.addEventListener('peer:add', done, { once: true })
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
