import { z } from 'zod'

/**
 * The domain's messages and records, as types and as the schemas that check them. Every message
 * on the wire is one of these; each protocol's codec picks its part. Strict, so unknown fields
 * are refused.
 */

const peerIdString = z.string().min(10).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'must be a base58 peer id')
const multiaddrString = z.string().min(1).max(512)
export const peerRefSchema = z.strictObject({ peer: peerIdString, addrs: z.array(multiaddrString).max(16) })
export type PeerRef = z.output<typeof peerRefSchema>

const requestId = z.string().min(1).max(64)
export const domainSchema = z.string().min(1).max(63).regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be lower-case letters, digits, "." and "-", like a DNS name')
export const vmidSchema = z.string().min(1).max(200).regex(/^vm-[0-9a-f]{16}\.[1-9A-HJ-NP-Za-km-z]+$/, 'is not a vmplant VMID (vm-<16 hex>.<plant peer id>)')

const hardwareWire = z.strictObject({
  memoryMB: z.number().int().positive().max(1_048_576),
  os: z.string().min(1).max(64),
  arch: z.string().min(1).max(32),
  diskMB: z.number().int().positive().optional()
})

/** published on the bid topic by a shop, and by a broker on its site's topic */
export const bidCallSchema = z.strictObject({
  type: z.literal('bid.call'),
  requestId,
  /** where answers go: the shop, or the broker that republished the call */
  replyTo: peerRefSchema,
  hardware: hardwareWire,
  domain: domainSchema,
  actionCount: z.number().int().min(0).max(10_000),
  /** the DAG's shape with each action's identity, so that a plant can price its warehouse's best image */
  dag: z.array(z.strictObject({
    id: z.string().min(1).max(64),
    identity: z.string().regex(/^[0-9a-f]{64}$/),
    after: z.array(z.string().max(64)).max(256)
  })).max(256).optional(),
  /** how long the caller waits for answers, in ms */
  windowMs: z.number().int().positive().max(600_000),
  /** set by a broker that republishes a shop's call: the shop may then order the plant directly */
  origin: z.strictObject({ requestId, caller: peerIdString }).optional()
})
export type BidCall = z.output<typeof bidCallSchema>

export const bidAnswerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bid.offer'),
    requestId,
    plant: peerRefSchema,
    cost: z.number().finite().min(0),
    /** how the plant came to its cost, for people */
    reason: z.string().max(500),
    /** the broker that forwarded it, if any */
    via: peerIdString.optional()
  }),
  z.strictObject({
    type: z.literal('bid.decline'),
    requestId,
    bidder: peerIdString,
    reason: z.string().max(500)
  })
])
export type BidAnswer = z.output<typeof bidAnswerSchema>
export type BidOffer = Extract<BidAnswer, { type: 'bid.offer' }>

/** The peer an answer comes from: the broker that forwarded an offer, else the plant, or the decliner. */
export function answerBidder (answer: BidAnswer): string {
  return answer.type === 'bid.offer' ? (answer.via ?? answer.plant.peer) : answer.bidder
}

/** A client's signature over one operation, checked by the plant that holds the VM. */
export const authSchema = z.strictObject({
  owner: peerIdString,
  ts: z.number().int().positive(),
  sig: z.string().min(1).max(512)
})
export type Auth = z.output<typeof authSchema>

export const orderSchema = z.strictObject({
  type: z.literal('order.produce'),
  requestId,
  /** the client's spec exactly as the client signed it; checked by the plant with the planner's own validation */
  spec: z.unknown(),
  domain: domainSchema,
  owner: peerIdString,
  /** the client's signature over the create (spec and domain): no peer orders a VM in a client's name */
  auth: authSchema,
  biddingMs: z.number().min(0),
  cost: z.number().min(0),
  /** how long the plant has, from receipt, to deliver the VM: the agreement's expiry */
  budgetMs: z.number().int().positive().max(86_400_000)
})
export type Order = z.output<typeof orderSchema>

/** The shop gave up on an order: the plant aborts the production, or destroys the VM it made. */
export const orderCancelSchema = z.strictObject({ type: z.literal('order.cancel'), requestId })
export type OrderCancel = z.output<typeof orderCancelSchema>

export const vmRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('vm.query'), vmid: vmidSchema, auth: authSchema }),
  z.strictObject({ type: z.literal('vm.destroy'), vmid: vmidSchema, auth: authSchema }),
  z.strictObject({ type: z.literal('vm.list'), auth: authSchema })
])
export type VmRequest = z.output<typeof vmRequestSchema>

export const clientRequestSchema = z.discriminatedUnion('type', [
  /** the spec is validated by the shop itself, so that the client gets the spec's own error messages */
  z.strictObject({ type: z.literal('create'), spec: z.unknown(), domain: domainSchema, auth: authSchema }),
  z.strictObject({ type: z.literal('query'), vmid: vmidSchema, auth: authSchema }),
  z.strictObject({ type: z.literal('destroy'), vmid: vmidSchema, auth: authSchema }),
  z.strictObject({ type: z.literal('list'), auth: authSchema })
])
export type ClientRequest = z.output<typeof clientRequestSchema>

const actionOutput = z.strictObject({ exitCode: z.number().int(), stdout: z.string(), stderr: z.string(), durationMs: z.number() })

export const classadSchema = z.strictObject({
  vmid: vmidSchema,
  plant: peerIdString,
  domain: domainSchema,
  owner: peerIdString,
  state: z.enum(['running', 'paused', 'stopped', 'crashed', 'destroyed']),
  memoryMB: z.number().int(),
  os: z.string(),
  arch: z.string(),
  line: z.string(),
  goldenImage: z.string(),
  network: z.strictObject({ name: z.string(), index: z.number().int() }),
  cost: z.number(),
  createdAt: z.string(),
  timings: z.strictObject({ biddingMs: z.number(), cloningMs: z.number(), configuringMs: z.number(), totalMs: z.number() }),
  actions: z.strictObject({ cloned: z.array(z.string()), run: z.array(z.string()) }),
  outputs: z.record(z.string(), actionOutput),
  /** the actions' declared exports */
  attributes: z.record(z.string(), z.string()),
  /** actions that failed and were handled by their error sub-graph */
  recovered: z.array(z.strictObject({ action: z.string(), exitCode: z.number().int(), timedOut: z.boolean(), handledBy: z.array(z.string()) }))
})
export type Classad = z.output<typeof classadSchema>

/** What the shop tells the client about the bidding round behind a create. */
export const biddingReportSchema = z.strictObject({
  requestId,
  expected: z.number().int(),
  answered: z.number().int(),
  offers: z.array(z.strictObject({ plant: peerIdString, cost: z.number(), reason: z.string(), via: z.string().optional() })),
  declines: z.array(z.strictObject({ bidder: peerIdString, reason: z.string() })),
  attempts: z.array(z.strictObject({ plant: peerIdString, error: z.string().optional() })),
  chosen: peerIdString,
  tie: z.boolean()
})
export type BiddingReport = z.output<typeof biddingReportSchema>

export const createResultSchema = z.strictObject({ classad: classadSchema, bidding: biddingReportSchema })
export type CreateResult = z.output<typeof createResultSchema>
export const destroyResultSchema = z.strictObject({ vmid: vmidSchema, destroyed: z.literal(true) })
export const listResultSchema = z.strictObject({ vms: z.array(classadSchema), unreachable: z.array(peerIdString) })
export type ListResult = z.output<typeof listResultSchema>

export const warehouseRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('warehouse.list') }),
  z.strictObject({ type: z.literal('warehouse.inspect'), id: z.string().min(1).max(128) }),
  /** the spec is checked by the planner's own validation */
  z.strictObject({ type: z.literal('warehouse.plan'), spec: z.unknown() })
])
export type WarehouseRequest = z.output<typeof warehouseRequestSchema>
