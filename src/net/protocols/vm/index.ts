import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { vmRequestSchema, type AbortOptions, type Classad, type VmRequest } from '../../../interface/index.js'
import type { VmplantLibp2p } from '../../node.js'
import { call, serve } from '../../rpc.js'
import { PROTOCOLS } from '../../protocols.js'
import { verifyAuth } from '../../auth.js'

/** The plant's answers about VMs; `owner` is the client whose signature the edge verified. */
export interface VmHandlers {
  query: (vmid: string, owner: string, signal: AbortSignal) => Promise<Classad>
  destroy: (vmid: string, owner: string, signal: AbortSignal) => Promise<{ vmid: string, destroyed: true }>
  list: (owner: string, signal: AbortSignal) => Promise<Classad[]>
}

export interface VmComponents { libp2p: VmplantLibp2p, clock: { now(): number } }

/** Registers the plant's side of `/vmplant/vm`: every request carries the client's signature, checked here. */
export async function serveVms (components: VmComponents, handlers: VmHandlers): Promise<void> {
  await serve(components.libp2p, PROTOCOLS.vm, vmRequestSchema, async (request, { signal }): Promise<unknown> => {
    const now = components.clock.now()
    switch (request.type) {
      case 'vm.query':
        await verifyAuth(request.auth, 'query', request.vmid, now)
        return await handlers.query(request.vmid, request.auth.owner, signal)
      case 'vm.destroy':
        await verifyAuth(request.auth, 'destroy', request.vmid, now)
        return await handlers.destroy(request.vmid, request.auth.owner, signal)
      case 'vm.list':
        await verifyAuth(request.auth, 'list', '', now)
        return await handlers.list(request.auth.owner, signal)
      default: {
        const unknown: never = request
        throw new Error(`unknown vm request ${(unknown as { type: string }).type}`)
      }
    }
  })
}

/** The shop's side: forwards a client's signed request to the plant that holds the VM. */
export async function sendVmRequest (libp2p: VmplantLibp2p, plant: string, request: VmRequest, options: AbortOptions = {}): Promise<unknown> {
  return await call(libp2p, peerIdFromString(plant), PROTOCOLS.vm, request, z.unknown(), options)
}
