import { z } from 'zod'
import { domainSchema, printableText as text, vmidSchema } from '../../../interface/index.js'

const peerId = z.string().min(10).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'must be a base58 peer id')
const count = z.number().int().min(0)

/** At most this many VMs, networks, images and peers are listed by id; the counts stay exact. */
export const STATUS_LIST_LIMIT = 2000

/** an answer's limit: STATUS_LIST_LIMIT VMs of about 400 bytes, with room for the rest */
export const STATUS_MAX_BYTES = 4 * 1024 * 1024

/** a request's limit: it carries nothing but its type */
export const STATUS_REQUEST_MAX_BYTES = 1024

/** The request: nothing but its type; who asks is the stream's noise-authenticated peer. */
export const statusRequestSchema = z.strictObject({ type: z.literal('status') })
export type StatusRequest = z.output<typeof statusRequestSchema>

/**
 * What the asker may see: 'full' lists the plant's VMs and domain networks by id (the node's
 * operator: a peer in its `status.allow`); 'counts' gives their numbers only, since they belong to
 * the plant's clients (anyone else who can connect).
 */
export type StatusDetail = 'full' | 'counts'

const vmEntry = z.strictObject({ vmid: vmidSchema, state: text(32), line: text(32), domain: domainSchema, memoryMB: count, owner: peerId, createdAt: text(64) })
const networkEntry = z.strictObject({ domain: text(200), name: text(64), index: count })
const imageEntry = z.strictObject({ id: text(200), line: text(32), memoryMB: count, actions: count, bytes: count, source: text(32) })

export const nodeStatusSchema = z.strictObject({
  peer: peerId,
  roles: z.array(z.enum(['shop', 'broker', 'plant'])).max(3),
  site: text(64).optional(),
  addrs: z.array(text(512)).max(64),
  detail: z.enum(['full', 'counts']),
  peers: z.strictObject({
    /** distinct peers with an open connection */
    connected: count,
    /** peers this node exchanges gossipsub messages with */
    gossip: count,
    /** peers in the kad-dht routing table */
    dht: count,
    /** the connected peers by id ('full' only) */
    list: z.array(z.strictObject({ peer: peerId, addr: text(512) })).max(STATUS_LIST_LIMIT).optional()
  }),
  plant: z.strictObject({
    line: text(32),
    vms: z.strictObject({
      count,
      byState: z.record(text(32), count),
      /** 'full' only */
      list: z.array(vmEntry).max(STATUS_LIST_LIMIT).optional()
    }),
    networks: z.strictObject({ count, list: z.array(networkEntry).max(STATUS_LIST_LIMIT).optional() }),
    /** the warehouse: readable by anyone on /vmplant/warehouse/1.0.0 anyway */
    images: z.strictObject({ count, bytes: count, list: z.array(imageEntry).max(STATUS_LIST_LIMIT) })
  }).optional()
})
export type NodeStatus = z.output<typeof nodeStatusSchema>
export type VmStatusEntry = z.output<typeof vmEntry>
export type NetworkStatusEntry = z.output<typeof networkEntry>
export type ImageStatusEntry = z.output<typeof imageEntry>
