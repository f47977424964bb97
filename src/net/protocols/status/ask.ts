import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { errorMessage, type AbortOptions } from '../../../interface/index.js'
import { createLightNode } from '../../light-node.js'
import { statusProtocol } from './index.js'
import type { NodeStatus } from './schema.js'
import { RemoteError } from '../../errors.js'
import { NodeUnreachableError } from './errors.js'

export interface AskStatusInit {
  /** who asks: a peer in the node's `status.allow` gets the full view */
  privateKey: PrivateKey
  /** a closed federation's swarm key */
  psk?: Uint8Array
  /** @default 10000 */
  dialTimeoutMs?: number
}

/** Asks the node at `addr` (with /p2p/<id>) for its status from a light node of its own that only dials, then stops it. */
export async function askStatus (addr: string, init: AskStatusInit, options: AbortOptions = {}): Promise<NodeStatus> {
  options.signal?.throwIfAborted()
  const target = multiaddr(addr)
  const libp2p = await createLightNode({ privateKey: init.privateKey, ...(init.psk !== undefined ? { federation: { psk: init.psk } } : {}) })
  await libp2p.start()
  try {
    return await statusProtocol({ libp2p }, { ...(init.dialTimeoutMs !== undefined ? { dialTimeoutMs: init.dialTimeoutMs } : {}) }).ask(target, options)
  } catch (err: unknown) {
    if (err instanceof RemoteError || options.signal?.aborted === true) throw err
    const hint = init.psk === undefined ? 'if it is a closed federation, give its swarm key (--psk)' : 'is this the federation\'s swarm key, and is this client on the node\'s federation.allow?'
    throw new NodeUnreachableError(`cannot reach the node at ${addr}: ${errorMessage(err)}; ${hint}`, { cause: err })
  } finally {
    await libp2p.stop()
  }
}
