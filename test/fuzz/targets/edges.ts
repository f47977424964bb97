import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import fc from 'fast-check'
import { classadSchema, type Classad } from '../../../src/interface/index.js'
import { createNode, type VmplantLibp2p } from '../../../src/net/node.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../src/net/rpc.js'
import { PROTOCOLS } from '../../../src/net/protocols.js'
import { orderProtocol } from '../../../src/net/protocols/order/index.js'
import { vmProtocol } from '../../../src/net/protocols/vm/index.js'
import { clientProtocol } from '../../../src/net/protocols/client/index.js'
import { answeringInbox } from '../../helpers/inbox.js'
import { warehouseProtocol } from '../../../src/net/protocols/warehouse/index.js'
import { STATUS_REQUEST_MAX_BYTES, nodeStatusSchema, statusProtocol, type NodeStatus } from '../../../src/net/protocols/status/index.js'
import { validateSpec } from '../../../src/planner/index.js'
import { FuzzFailure, type FuzzTarget } from '../harness.js'
import { FUZZ_NOW, fixtures } from '../fixtures.js'
import { frames, jsonBytes, type Json } from '../mutate.js'

/**
 * The stream protocols' real edges on a real libp2p node on 127.0.0.1 (TCP, noise, yamux), fed
 * raw length-prefixed frames by a second node: what `serve` answers (an error frame naming the
 * problem, or the handler's value) and that the node answers the next frame too. The client's
 * edge binds requests to the sending peer: the sending node has the fixtures' client key.
 */

/** an error frame from the edge */
export class EdgeRefusal extends Error {
  static override name = 'EdgeRefusal'
  constructor (readonly code: string, message: string) {
    super(message)
    this.name = EdgeRefusal.name
  }
}

/** error codes an edge may answer a bad frame with */
const CODES = new Set(['MalformedMessageError', 'AuthError', 'DomainCredentialError', 'InvalidSpecError'])
const CLEAR = /(is malformed( at .+)?: \S|over the limit of \d+|is not valid UTF-8 JSON|nests deeper than \d+ levels|signature|names \S+ but comes from|credential|\S+: \S|^[^:]{3,}$)/s

export async function edgeTargets (): Promise<{ targets: FuzzTarget[], close: () => Promise<void> }> {
  const f = await fixtures()
  const seeds = (name: string): Json[] => f.seeds[name] as Json[]
  const classad: Classad = classadSchema.parse(f.seeds.classad?.[0])
  const clock = { now: () => FUZZ_NOW }
  const server = await createNode({ privateKey: await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(3)), listen: ['/ip4/127.0.0.1/tcp/0'], logPrefix: 'fuzz:edge' })
  // the client's key: the client edge takes requests only from the peer that signed them
  const sender = await createNode({ privateKey: f.clientKey, listen: [], logPrefix: 'fuzz:sender' })
  const nodes: VmplantLibp2p[] = [server, sender]
  try {
    const inbox = answeringInbox((command) => {
      switch (command.type) {
        case 'client.create':
          validateSpec(command.spec)
          return { classad, bidding: { requestId: 'r-1', expected: 1, answered: 1, offers: [], declines: [], attempts: [], chosen: f.plant, tie: false } }
        case 'client.list': return { vms: [classad], unreachable: [] }
        case 'vm.list': return [classad]
        case 'vm.destroy': case 'client.destroy': return { vmid: command.vmid, destroyed: true as const }
        case 'order.cancel': return undefined
        default: return classad
      }
    })
    await orderProtocol({ libp2p: server, clock }).handle(inbox)
    await vmProtocol({ libp2p: server, clock }).handle(inbox)
    await clientProtocol({ libp2p: server, clock }).handle(inbox)
    await warehouseProtocol({ libp2p: server }).handle(async (request) => request.type === 'warehouse.plan' ? { spec: validateSpec(request.spec) } : { images: [] })
    // the sender is no operator of this node (not in status.allow): whatever the view, it gets counts only
    const fullStatus = nodeStatusSchema.parse((f.seeds['status-answer']?.[0] as { value: unknown }).value) as NodeStatus
    await statusProtocol({ libp2p: server }, { allow: [f.shop] }).handle(async () => fullStatus)
    await server.start()
    await sender.start()
  } catch (err) {
    await Promise.all(nodes.map(async (n) => { await n.stop() }))
    throw err
  }
  const addr = server.getMultiaddrs()[0]
  if (addr === undefined) throw new Error('the edge node listens nowhere')

  /** one raw frame (length prefix and bytes) on a new stream; the answer frame, decoded */
  const send = async (protocol: string, body: Uint8Array): Promise<unknown> => {
    const stream = await sender.dialProtocol(addr, protocol, { signal: AbortSignal.timeout(5000) })
    try {
      const lp = lpStream(stream, { maxDataLength: 2 * DEFAULT_MAX_MESSAGE_BYTES })
      // the edge may answer a frame over its limit before all of it is sent, and stop reading it
      const reading = lp.read({ signal: AbortSignal.timeout(5000) })
      reading.catch(() => {})
      await lp.write(body).catch(() => {})
      const answer = await reading
      await stream.close().catch(() => {})
      return JSON.parse(new TextDecoder().decode(answer.subarray()))
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw new FuzzFailure(`${protocol}: no answer frame to ${body.byteLength} bytes: ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
    }
  }

  const edge = (protocol: string, seedName: string): FuzzTarget => ({
    name: `edge-${seedName}`,
    corpus: seedName,
    inputs: frames(seeds(seedName), DEFAULT_MAX_MESSAGE_BYTES),
    deadlineMs: 10_000,
    errors: [{ type: EdgeRefusal, clear: CLEAR }],
    run: async (bytes) => {
      const answer = await send(protocol, bytes) as { ok?: boolean, error?: { code?: unknown, message?: unknown } }
      if (answer.ok === true) return
      const code = String(answer.error?.code)
      if (!CODES.has(code)) throw new FuzzFailure(`${protocol} answered with ${code}: ${String(answer.error?.message)}`)
      throw new EdgeRefusal(code, String(answer.error?.message ?? ''))
    }
  })

  /** frames cut short: a length prefix that promises more than comes, then the stream closes */
  const truncated: FuzzTarget = {
    name: 'edge-truncated',
    inputs: fc.tuple(fc.constantFrom(...seeds('vm')), fc.nat()).map(([seed, cut]) => {
      const body = jsonBytes(seed)
      const prefix = Uint8Array.from([body.byteLength & 0x7f | 0x80, body.byteLength >> 7])
      return Uint8Array.from([...prefix, ...body.subarray(0, cut % body.byteLength)])
    }),
    deadlineMs: 10_000,
    errors: [{ type: EdgeRefusal, clear: /(EOF|closed|read)/i }],
    run: async (bytes) => {
      const stream = await sender.dialProtocol(addr, PROTOCOLS.vm, { signal: AbortSignal.timeout(5000) })
      try {
        stream.send(bytes)
        // closing our side ends the frame early; the answer may still come back
        const closing = stream.close().catch(() => {})
        const lp = lpStream(stream)
        const answer = JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()))
        await closing
        if (answer.ok === true) throw new FuzzFailure('a truncated frame was accepted')
        throw new EdgeRefusal(String(answer.error?.code), String(answer.error?.message ?? ''))
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        if (err instanceof EdgeRefusal || err instanceof FuzzFailure) throw err
        // the edge may also just end the stream: that is a refusal, as long as it keeps serving
        throw new EdgeRefusal('closed', `stream closed: ${(err as Error)?.message}`)
      }
    }
  }

  /** the status edge: a request is refused clearly or answered, and a stranger's answer lists nothing by id */
  const status: FuzzTarget = {
    ...edge(PROTOCOLS.status, 'status-request'),
    name: 'edge-status',
    inputs: frames(seeds('status-request'), STATUS_REQUEST_MAX_BYTES),
    run: async (bytes) => {
      const answer = await send(PROTOCOLS.status, bytes) as { ok?: boolean, value?: unknown, error?: { code?: unknown, message?: unknown } }
      if (answer.ok === true) {
        const value = nodeStatusSchema.parse(answer.value)
        if (value.detail !== 'counts' || value.peers.list !== undefined || value.plant?.vms.list !== undefined || value.plant?.networks.list !== undefined) throw new FuzzFailure(`a peer outside status.allow was shown lists by id: ${JSON.stringify(value).slice(0, 300)}`)
        return
      }
      const code = String(answer.error?.code)
      if (code !== 'MalformedMessageError') throw new FuzzFailure(`${PROTOCOLS.status} answered with ${code}: ${String(answer.error?.message)}`)
      throw new EdgeRefusal(code, String(answer.error?.message ?? ''))
    }
  }

  return {
    targets: [edge(PROTOCOLS.order, 'order'), edge(PROTOCOLS.vm, 'vm'), edge(PROTOCOLS.client, 'client'), edge(PROTOCOLS.warehouse, 'warehouse'), status, truncated],
    close: async () => { await Promise.all(nodes.map(async (n) => { await n.stop() })) }
  }
}
