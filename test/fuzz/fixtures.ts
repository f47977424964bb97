import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signAuth, signCreate, signDomainCredential } from '../../src/net/auth.js'
import { goldenId, type GoldenDescriptor } from '../../src/planner/index.js'
import type { Json } from './mutate.js'

/**
 * Valid messages, signed with real keys, that the mutations start from: a fuzzed message that
 * keeps its signed fields reaches the signature and credential checks behind the schema.
 */
export interface Fixtures {
  now: number
  client: string
  shop: string
  plant: string
  broker: string
  domainKey: string
  clientKey: PrivateKey
  credential: Json
  spec: Json
  vmid: string
  descriptor: GoldenDescriptor
  imageId: string
  /** valid messages per protocol */
  seeds: Record<string, Json[]>
}

let cached: Promise<Fixtures> | undefined

/** the fixtures, made once per process (key generation and signing are not free) */
export async function fixtures (): Promise<Fixtures> {
  cached ??= make()
  return await cached
}

export const SPEC: Json = {
  hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' },
  actions: [
    { id: 'net', run: 'echo ip_address=10.0.0.2', exports: ['ip_address'] },
    { id: 'user', run: 'useradd vm', after: ['net'], timeoutMs: 5000, onError: { actions: [{ id: 'undo', run: 'true' }], then: 'continue' } },
    { id: 'iso', type: 'host', host: { attach: 'iso', image: 'tools' }, after: ['user'] }
  ]
}

/**
 * The edges' clock in every run: with keys from fixed seeds and a fixed time the seeds' signatures
 * are the same in every run, so corpus entries made from them stay valid and reach the checks
 * behind the signature.
 */
export const FUZZ_NOW = Date.UTC(2026, 10, 30, 12)

/** a full status as a stranger gets it: lists by id left out, as the status edge's `countsOnly` does */
function countsOf (full: Json): Json {
  const s = structuredClone(full) as any
  delete s.peers.list
  delete s.plant.vms.list
  delete s.plant.networks.list
  s.detail = 'counts'
  return s
}

async function make (): Promise<Fixtures> {
  const now = FUZZ_NOW
  const [clientKey, shopKey, plantKey, brokerKey, domainPrivate] = await Promise.all([1, 2, 3, 4, 5].map(async (n) => await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(n))))
  const id = (k: PrivateKey): string => peerIdFromPrivateKey(k).toString()
  const client = id(clientKey!)
  const shop = id(shopKey!)
  const plant = id(plantKey!)
  const broker = id(brokerKey!)
  const domainKey = id(domainPrivate!)
  const credential = await signDomainCredential(domainPrivate!, { domain: 'grid', client, issuedAt: now - 1000, expiresAt: now + 86_400_000 }) as unknown as Json
  const vmid = `vm-0123456789abcdef.${plant}`
  const createAuth = await signCreate(clientKey!, SPEC, 'grid', now, domainKey) as unknown as Json
  const auth = async (op: string, subject: string): Promise<Json> => await signAuth(clientKey!, op, subject, now) as unknown as Json
  const descriptor: GoldenDescriptor = {
    format: 'vmplant.golden/1',
    line: 'qemu',
    hardware: { arch: 'x86_64', os: 'linux', memoryMB: 64, diskMB: 64 },
    applied: ['a'.repeat(64), 'b'.repeat(64)],
    artifacts: [{ name: 'disk.qcow2', sha256: 'c'.repeat(64), bytes: 1024 }, { name: 'ram', sha256: 'd'.repeat(64), bytes: 0 }]
  }
  const imageId = goldenId(descriptor)
  const peerRef = (peer: string): Json => ({ peer, addrs: ['/ip4/127.0.0.1/tcp/4001'] })
  const call: Json = {
    type: 'bid.call', requestId: 'r-1', replyTo: peerRef(shop), hardware: { memoryMB: 64, os: 'linux', arch: 'x86_64' },
    domain: 'grid', domainKey, actionCount: 2, dag: [{ id: 'net', identity: 'e'.repeat(64), after: [] }, { id: 'user', identity: 'f'.repeat(64), after: ['net'] }],
    windowMs: 2000
  }
  const classad: Json = {
    vmid, plant, domain: 'grid', domainKey, owner: client, state: 'running', memoryMB: 64, os: 'linux', arch: 'x86_64', line: 'qemu',
    goldenImage: imageId, network: { name: 'vp000001', index: 1, kind: 'bridge' }, cost: 12.5, createdAt: new Date(now).toISOString(),
    timings: { biddingMs: 10, cloningMs: 200, configuringMs: 300.25, totalMs: 510.25 },
    actions: { cloned: ['net'], run: ['user'] },
    outputs: { user: { exitCode: 0, stdout: 'ok\n', stderr: '', durationMs: 5 }, 'Net.cfg': { exitCode: 1, stdout: '\u001b[31mred\u0000', stderr: 'é', durationMs: 1 } },
    attributes: { ip_address: '10.0.0.2' },
    recovered: [{ action: 'user', exitCode: 1, timedOut: false, handledBy: ['undo'] }]
  }
  const report: Json = {
    type: 'load.report', plant, epoch: now, seq: 3, ttlMs: 30_000,
    cost: { model: 'paper', computeCost: 4, networkCost: 50, maxNetworks: 4, maxVms: 32 },
    line: { kind: 'qemu', minMemoryMB: 16, os: ['linux'], arch: ['x86_64'], overheadMB: 64 },
    load: { runningVms: 2, domains: ['grid', `grid/${domainKey}`], memoryUsedMB: 128, memoryCapacityMB: 4096, hostFreeMB: 2048 },
    images: [{ id: imageId, hardware: descriptor.hardware, applied: descriptor.applied, cloneCost: 1 }]
  }
  // a plant's full status (the operator's view) and, below, the stranger's counts of it
  const statusFull: Json = {
    peer: plant, roles: ['plant'], addrs: ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001'], detail: 'full',
    peers: { connected: 2, gossip: 1, dht: 1, list: [{ peer: shop, addr: '/ip4/127.0.0.1/tcp/4002' }, { peer: client, addr: '/ip4/127.0.0.1/tcp/50000' }] },
    plant: {
      line: 'qemu',
      vms: { count: 2, byState: { running: 1, producing: 1 }, list: [{ vmid, state: 'running', line: 'qemu', domain: 'grid', memoryMB: 64, owner: client, createdAt: new Date(now).toISOString() }, { vmid: `vm-fedcba9876543210.${plant}`, state: 'producing', line: 'qemu', domain: 'lab.example', memoryMB: 128, owner: client, createdAt: new Date(now).toISOString() }] },
      networks: { count: 1, list: [{ domain: 'grid', name: 'vp000001', index: 1 }] },
      images: { count: 1, bytes: 1024, list: [{ id: imageId, line: 'qemu', memoryMB: 64, actions: 2, bytes: 1024, source: 'learned' }] }
    }
  }
  const seeds: Record<string, Json[]> = {
    'bids-call': [call, { ...call as object, origin: { requestId: 'r-0', caller: client } } as Json],
    'bids-answer': [
      { type: 'bid.offer', requestId: 'r-1', plant: peerRef(plant), cost: 12.5, reason: '2 VMs running' },
      { type: 'bid.offer', requestId: 'r-1', plant: peerRef(plant), cost: 0, reason: 'via broker', via: broker },
      { type: 'bid.decline', requestId: 'r-1', bidder: plant, reason: 'no memory' }
    ],
    order: [
      { type: 'order.produce', requestId: 'r-1', spec: SPEC, domain: 'grid', owner: client, auth: createAuth, credential, biddingMs: 10, cost: 12.5, budgetMs: 60_000 },
      { type: 'order.cancel', requestId: 'r-1' }
    ],
    vm: [
      { type: 'vm.query', vmid, auth: await auth('query', vmid), credentials: [credential] },
      { type: 'vm.destroy', vmid, auth: await auth('destroy', vmid), credentials: [credential] },
      { type: 'vm.list', auth: await auth('list', ''), credentials: [credential] }
    ],
    client: [
      { type: 'create', spec: SPEC, domain: 'grid', auth: createAuth, credential },
      { type: 'query', vmid, auth: await auth('query', vmid), credentials: [credential] },
      { type: 'destroy', vmid, auth: await auth('destroy', vmid), credentials: [credential] },
      { type: 'list', auth: await auth('list', ''), credentials: [credential] }
    ],
    warehouse: [{ type: 'warehouse.list' }, { type: 'warehouse.inspect', id: imageId }, { type: 'warehouse.plan', spec: SPEC }],
    'image-request': [{ type: 'descriptor', id: imageId }, { type: 'images', key: imageId }, { type: 'artifact', id: imageId, name: 'disk.qcow2', offset: 512 }],
    'image-answer': [
      { ok: true, value: { descriptor: descriptor as unknown as Json, files: { 'disk.qcow2': 'disk.qcow2', ram: 'golden.ram' } } },
      { ok: true, value: { images: [{ id: imageId, descriptor: descriptor as unknown as Json }] } },
      { ok: true, value: { id: imageId, name: 'disk.qcow2', offset: 512, bytes: 1024 } },
      { ok: false, error: { code: 'ImageNotHeldError', message: `image ${imageId} is not held here` } }
    ],
    'create-progress': [
      { progress: { step: 'bidding', phase: 'start', detail: 'calling 3 bidder(s) for 2000 ms at most' } },
      { progress: { step: 'image-fetch', phase: 'progress', detail: 'image 0123456789ab from 2rJdfZz4 (disk, 12.0 MB)', fraction: 0.25, plant } },
      { progress: { step: 'order', phase: 'done', detail: 'failed: busy: 64 orders in production', plant } },
      { ok: false, error: { code: 'BusyError', message: 'busy: the shop has 1024 creates in flight; retry later' } }
    ],
    'rpc-response': [
      { ok: true, value: classad },
      { ok: true, value: { vms: [classad], unreachable: [plant] } },
      { ok: true, value: { ack: true } },
      { ok: false, error: { code: 'VmNotFoundError', message: `VM ${vmid} not found` } }
    ],
    'load-report': [report],
    'vnet-open': [{ type: 'vnet.open', domain: 'grid', credential }],
    'vnet-answer': [{ ok: true }, { ok: false, error: { code: 'VnetRefusedError', message: 'tunnel for domain grid refused' } }],
    classad: [classad],
    'status-request': [{ type: 'status' }],
    'status-answer': [
      { ok: true, value: statusFull },
      { ok: true, value: countsOf(statusFull) },
      { ok: true, value: { peer: shop, roles: ['shop', 'broker'], site: 'lab', addrs: [], detail: 'counts', peers: { connected: 0, gossip: 0, dht: 0 } } },
      { ok: false, error: { code: 'BusyError', message: `${client} has 8 requests in flight on /vmplant/status/1.0.0, the limit for one connection` } }
    ]
  }
  return { now, client, shop, plant, broker, domainKey, clientKey: clientKey!, credential, spec: SPEC, vmid, descriptor, imageId, seeds }
}
