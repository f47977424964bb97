import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { vmRequestSchema, type AbortOptions, type Inbox, type VmRequest } from '../../../interface/index.js'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import type { SigningEdgeComponents } from '../target.js'
import { vmCommand } from '../../commands.js'

export { AuthError } from '../../auth.js'

export interface VmProtocolInit {
  /** how long a forwarded request may wait to find the plant; @default 10000 */
  dialTimeoutMs?: number
  /** requests one connection (a shop's) may have in flight before more are answered "busy"; @default DEFAULT_MAX_INBOUND_STREAMS */
  maxRequestsPerConnection?: number
}

export interface VmProtocolComponents extends SigningEdgeComponents {}

/** `/vmplant/vm/1.0.0`: a shop forwards a client's signed query, destroy or list to a plant. */
export interface VmProtocol {
  /**
   * registers the plant's side: every request carries the client's signature and domain
   * credentials, checked here; the plant gets `vm.*` commands naming the client (`owner`) and the
   * domains whose credentials for it verified, and answers only for VMs of those domains
   */
  handle(inbox: Inbox): Promise<void>
  /** the shop's side */
  request(plant: string, request: VmRequest, options?: AbortOptions): Promise<unknown>
}

class Vms implements VmProtocol {
  constructor (private readonly components: VmProtocolComponents, private readonly init: VmProtocolInit) {}

  async handle (inbox: Inbox): Promise<void> {
    const { libp2p, clock } = this.components
    await serve(libp2p, PROTOCOLS.vm, vmRequestSchema, async (request, { signal, remotePeer }): Promise<unknown> => {
      return await inbox.deliver(await vmCommand(request, remotePeer.toString(), clock.now()), { signal })
    }, { ...(this.init.maxRequestsPerConnection !== undefined ? { maxInboundStreams: this.init.maxRequestsPerConnection } : {}) })
  }

  async request (plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
    return await call(this.components.libp2p, peerIdFromString(plant), PROTOCOLS.vm, request, z.unknown(), { ...options, namedErrors: true, ...(this.init.dialTimeoutMs !== undefined ? { dialTimeoutMs: this.init.dialTimeoutMs } : {}) })
  }
}

export function vmProtocol (components: VmProtocolComponents, init: VmProtocolInit = {}): VmProtocol {
  return new Vms(components, init)
}
