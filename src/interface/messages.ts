import { z } from 'zod'
import { WIRE_ERROR_CODE_LIST } from './errors.js'

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

/**
 * A domain's credential: the domain's key (an Ed25519 key, named by its libp2p peer id) says
 * that `client` may act in domain `domain` until `expiresAt` (ms since the epoch). `sig` is the
 * domain key's signature over the other fields in canonical JSON (src/net/auth.ts). A domain is
 * its key: two domains with the same name and different keys are two domains.
 */
export const domainCredentialSchema = z.strictObject({
  type: z.literal('domain.credential'),
  domain: domainSchema,
  /** the domain's public id: the peer id of its Ed25519 key */
  key: peerIdString,
  /** the client peer the credential is for */
  client: peerIdString,
  issuedAt: z.number().int().nonnegative(),
  expiresAt: z.number().int().positive(),
  sig: z.string().min(1).max(512)
})
export type DomainCredential = z.output<typeof domainCredentialSchema>
/** what a request may carry to show which domains its client acts in */
const credentialList = z.array(domainCredentialSchema).max(64)

/** A domain as a plant knows it: its name and, once authenticated, its key. */
export interface DomainRef { name: string, key: string }

/** The key under which a plant keeps a domain's network: the name and the domain's key; the name alone where no key is known (the simulator). */
export function domainIdOf (name: string, key: string | undefined): string {
  return key === undefined ? name : `${name}/${key}`
}

/** published on the bid topic by a shop, and by a broker on its site's topic */
export const bidCallSchema = z.strictObject({
  type: z.literal('bid.call'),
  requestId,
  /** where answers go: the shop, or the broker that republished the call */
  replyTo: peerRefSchema,
  hardware: hardwareWire,
  domain: domainSchema,
  /** the domain's key, so that a plant prices a network it already has for this domain, not for a namesake */
  domainKey: peerIdString.optional(),
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
    reason: z.string().max(500),
    /** why, as a code where it is one of the contract's (a busy plant): the shop tests this, not the reason's text */
    code: z.enum(WIRE_ERROR_CODE_LIST).optional()
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
  /** the domain's credential for the client, passed through by the shop; the plant's edge refuses an order without one */
  credential: domainCredentialSchema.optional(),
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
  z.strictObject({ type: z.literal('vm.query'), vmid: vmidSchema, auth: authSchema, credentials: credentialList.optional() }),
  z.strictObject({ type: z.literal('vm.destroy'), vmid: vmidSchema, auth: authSchema, credentials: credentialList.optional() }),
  z.strictObject({ type: z.literal('vm.list'), auth: authSchema, credentials: credentialList.optional() })
])
export type VmRequest = z.output<typeof vmRequestSchema>

export const clientRequestSchema = z.discriminatedUnion('type', [
  /** the spec is validated by the shop itself, so that the client gets the spec's own error messages */
  z.strictObject({ type: z.literal('create'), spec: z.unknown(), domain: domainSchema, auth: authSchema, credential: domainCredentialSchema.optional() }),
  /** `credentials`: the client's domain credentials; a VM is reached through a credential for its domain */
  z.strictObject({ type: z.literal('query'), vmid: vmidSchema, auth: authSchema, credentials: credentialList.optional() }),
  z.strictObject({ type: z.literal('destroy'), vmid: vmidSchema, auth: authSchema, credentials: credentialList.optional() }),
  z.strictObject({ type: z.literal('list'), auth: authSchema, credentials: credentialList.optional() })
])
export type ClientRequest = z.output<typeof clientRequestSchema>

const actionOutput = z.strictObject({ exitCode: z.number().int(), stdout: z.string(), stderr: z.string(), durationMs: z.number() })

export const classadSchema = z.strictObject({
  vmid: vmidSchema,
  plant: peerIdString,
  domain: domainSchema,
  /** the domain's key (its public id), from the credential the plant's edge verified; absent in records kept from before domains had keys */
  domainKey: peerIdString.optional(),
  owner: peerIdString,
  /** `creating`: an order the plant is producing now (listed, so that a tunnel can follow the plant before the VM asks for DHCP) */
  state: z.enum(['creating', 'running', 'paused', 'stopped', 'crashed', 'destroyed']),
  memoryMB: z.number().int(),
  os: z.string(),
  arch: z.string(),
  line: z.string(),
  goldenImage: z.string(),
  /** the domain's host-only network: `kind` 'bridge' (a real bridge), 'none' (a networkless VM, `detail` says why); absent: a modelled network (the simulator) */
  network: z.strictObject({ name: z.string(), index: z.number().int(), kind: z.enum(['bridge', 'none']).optional(), detail: z.string().optional() }),
  /** the VM's NIC on the domain's network as the guest reports it: MAC, and IPv4 address with prefix when it has one (the spec's `network.address`) */
  nic: z.strictObject({ mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/), address: z.string().max(32).optional() }).optional(),
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

/**
 * Text a person's terminal prints (`vmplant status`, a create's progress): none of what a terminal
 * acts on, C0 and C1 controls (escape sequences, a carriage return over a line) or bidi controls
 * (text shown reordered).
 */
// eslint-disable-next-line no-control-regex
export const printableText = (max: number): z.ZodString => z.string().max(max).regex(/^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/, 'must hold no control characters')

/** `text` as `printableText` takes it: each control character a space, cut to `max` characters. */
export function toPrintable (text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').slice(0, max)
}

/**
 * A step of a create in production, for the person waiting: the plant's (finding or fetching the
 * golden image, the line's download, build, boot and checkpoint of a new one, the clone, the
 * guest's network and its actions) and the shop's (the bidding round, the order). Each step is
 * sent when it starts and when it is done, and in between with `fraction` where the share done is
 * known. The shop adds `plant` to a plant's steps.
 */
export const createProgressSchema = z.strictObject({
  step: z.enum(['bidding', 'order', 'golden', 'image-fetch', 'download', 'build', 'boot', 'checkpoint', 'clone', 'network', 'actions']),
  phase: z.enum(['start', 'progress', 'done']),
  detail: printableText(300),
  fraction: z.number().min(0).max(1).optional(),
  plant: peerIdString.optional()
})
export type CreateProgress = z.output<typeof createProgressSchema>
/** A create's options: the caller may watch its steps. */
export interface ProgressOptions { signal?: AbortSignal, onProgress?: ((event: CreateProgress) => void) | undefined }

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

const costNumber = z.number().finite().min(0).max(1_000_000)

/**
 * A plant's load, pushed to its site's broker when it changes and as a heartbeat: what the broker
 * needs to price a call as the plant would (its cost model's config, its load, its line and the
 * golden images it could clone), so that a call costs the site one plant message, not one per plant.
 */
export const loadReportSchema = z.strictObject({
  type: z.literal('load.report'),
  /** the plant; the edge checks it is the peer that sent the report */
  plant: peerIdString,
  /** when this run of the plant started (its clock); with `seq`, orders reports across restarts */
  epoch: z.number().int().min(0),
  seq: z.number().int().min(0),
  /** how long the broker may rely on this report: a plant silent for longer is taken for dead */
  ttlMs: z.number().int().positive().max(3_600_000),
  /** the plant's cost model config, as its CostConfig (checked again by the broker's cost model) */
  cost: z.strictObject({
    model: z.string().min(1).max(32),
    computeCost: costNumber,
    networkCost: costNumber,
    maxNetworks: z.number().int().min(1).max(4096),
    maxVms: z.number().int().min(1).max(100_000),
    noImageCost: costNumber.optional(),
    actionCost: costNumber.optional(),
    maxRandomCost: z.number().int().min(1).max(1_000_000).optional()
  }),
  line: z.strictObject({
    kind: z.string().min(1).max(32),
    minMemoryMB: z.number().int().min(0),
    os: z.array(z.string().max(64)).max(32).optional(),
    arch: z.array(z.string().max(32)).max(32).optional(),
    /** what a VM costs the host beyond its guest memory, in MB (ProductionLine.memoryCostMB(m) - m) */
    overheadMB: z.number().int().min(0).max(1_048_576)
  }),
  load: z.strictObject({
    runningVms: z.number().int().min(0),
    /** domains with a host-only network on the plant, as `domainIdOf` names them (name, or name/key) */
    domains: z.array(z.string().min(1).max(200).refine((id) => {
      const [name, key, ...rest] = id.split('/')
      return rest.length === 0 && domainSchema.safeParse(name).success && (key === undefined || peerIdString.safeParse(key).success)
    }, 'must be a domain name, or a domain name and its key as name/key')).max(4096),
    memoryUsedMB: z.number().min(0),
    memoryCapacityMB: z.number().min(0),
    hostFreeMB: z.number().min(0).optional()
  }),
  /** the golden images of the plant's line, as the planner matches them (the most recently used first) */
  images: z.array(z.strictObject({
    id: z.string().min(1).max(128),
    hardware: z.strictObject({ arch: z.string().min(1).max(32), os: z.string().min(1).max(64), memoryMB: z.number().int().positive(), diskMB: z.number().int().positive() }),
    applied: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(256),
    cloneCost: z.number().min(0)
  })).max(64)
})
export type LoadReport = z.output<typeof loadReportSchema>
