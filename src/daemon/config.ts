import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { costConfigSchema, IMAGE_FETCH_DEFAULTS } from '../pricing/index.js'
import { ConfigError } from './errors.js'
import { DEFAULT_MAX_INBOUND_STREAMS, MAX_STREAMS_PER_CONNECTION } from '../net/limits.js'
import { parseListen } from './metrics-server.js'
import { atPosition, parseValuePositioned, yamlErrorText, type PositionedDocument } from './yaml-positions.js'
import { MAX_TEXT_NESTING, nestingTooDeep } from '../planner/index.js'
import { errorMessage } from '../interface/index.js'

const multiaddrString = z.string().refine((s) => { try { multiaddr(s); return true } catch { return false } }, 'is not a multiaddr')

/**
 * The bounds of a node's queues (the actors have none unless given, as in the simulator): creates
 * in flight at a shop, orders in production at a plant. Past them a request is refused as busy.
 */
export const DEFAULT_MAX_PENDING_CREATES = 1024
export const DEFAULT_MAX_QUEUED_ORDERS = 64

/** where metrics are served when the config turns them on without an address: loopback only */
export const METRICS_LISTEN = '127.0.0.1:9464'

function isHostPort (s: string): boolean {
  try {
    parseListen(s)
    return true
  } catch {
    return false
  }
}

export const driverConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sim'),
    cloneMs: z.number().min(0).default(0),
    resumeMs: z.number().min(0).default(0),
    actionMs: z.number().min(0).default(0),
    goldenMs: z.number().min(0).default(0)
  }),
  z.strictObject({
    kind: z.literal('qemu'),
    /** warm pool: QEMU processes per golden image kept loaded and paused (filled at start), so a clone skips QEMU's start-up */
    poolSize: z.number().int().min(0).max(64).default(0),
    /** warm pool: QEMU processes starting at once while it fills; @default 2 */
    poolSpawns: z.number().int().min(1).max(16).optional(),
    /** warm pool: the most processes per golden image it grows to while clones arrive faster than a refill takes; at least poolSize; @default poolSize */
    poolMax: z.number().int().min(0).max(256).optional(),
    /** warm pool: niceness of a refill's QEMU until claimed, where the plant may restore it (root, CAP_SYS_NICE); 0: normal priority; @default 0 */
    poolNiceness: z.number().int().min(0).max(19).optional(),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    tbSizeMB: z.number().int().min(1).max(4096).default(64),
    diskMB: z.number().int().min(1).default(64),
    overheadMB: z.number().int().min(0).default(64),
    /** where golden RAM files live; must be tmpfs; @default /dev/shm/vmplant-<hash of dataDir> */
    goldenDir: z.string().min(1).optional(),
    /** per-VM folders; paths of sockets inside must stay under 108 bytes; @default <dataDir>/line */
    workDir: z.string().min(1).optional()
  }).refine((qemu) => qemu.poolMax === undefined || qemu.poolMax >= qemu.poolSize, { message: 'poolMax must be at least poolSize', path: ['poolMax'] }),
  z.strictObject({
    kind: z.literal('uml'),
    /** per-VM folders; @default <dataDir>/line */
    workDir: z.string().min(1).optional(),
    /** golden root file systems; @default <dataDir>/golden */
    goldenDir: z.string().min(1).optional()
  })
])
export type DriverConfig = z.output<typeof driverConfigSchema>

export const nodeConfigSchema = z.strictObject({
  /** what this node does; one node may hold several roles */
  roles: z.array(z.enum(['shop', 'broker', 'plant'])).min(1).refine((r) => new Set(r).size === r.length, 'lists a role twice'),
  /** TCP multiaddrs to listen on */
  listen: z.array(multiaddrString).min(1).default(['/ip4/127.0.0.1/tcp/0']),
  /** peers to join the federation through; `/p2p/<id>` may be left off */
  bootstrap: z.array(multiaddrString).default([]),
  /** folder of the node's store and key, relative to the config file */
  dataDir: z.string().min(1),
  /** the node's identity key; @default <dataDir>/node.key */
  keyFile: z.string().min(1).optional(),
  /** the site this node belongs to: its plants answer its broker, not the shop */
  site: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"').optional(),
  shop: z.strictObject({
    bidWindowMs: z.number().int().min(1).max(600_000).default(2000),
    orderTimeoutMs: z.number().int().min(1).default(120_000),
    /** power of d choices: call only this many bidders, at random; absent: call all */
    choices: z.number().int().min(1).max(10_000).optional(),
    /** creates in flight past which the shop answers "busy" at once */
    maxPendingCreates: z.number().int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000').default(DEFAULT_MAX_PENDING_CREATES)
  }).default({ bidWindowMs: 2000, orderTimeoutMs: 120_000, maxPendingCreates: DEFAULT_MAX_PENDING_CREATES }),
  plant: z.strictObject({
    cost: costConfigSchema.default(costConfigSchema.parse({})),
    /** host memory the plant may give to VMs; @default 80% of the host's total memory */
    memoryMB: z.number().int().positive().optional(),
    driver: driverConfigSchema.default({ kind: 'sim', cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 }),
    /**
     * host-only networks per domain: 'bridge', a Linux bridge per domain with each VM's NIC on a
     * tap (needs CAP_NET_ADMIN; without it the plant says so and offers networkless VMs); 'model',
     * a record and a price only (the simulator's). @default 'bridge' when the line can put a NIC
     * on a bridge (qemu, uml), else 'model' (sim)
     */
    networks: z.enum(['bridge', 'model']).optional(),
    /** the names of the plant's bridges and taps start with it; @default vp + 6 hex digits of the data folder's hash */
    networkPrefix: z.string().regex(/^[a-z][a-z0-9]{1,7}$/, 'must be 2 to 8 lower-case letters and digits, starting with a letter').optional(),
    /**
     * Set (`{}` takes IMAGE_FETCH_DEFAULTS): a plant without an admissible golden image looks for a
     * peer's on the DHT when it bids, and prices fetching it, its bytes over the link speed measured
     * on earlier transfers (else `bytesPerSecond`), times `costPerSecond`, instead of `noImageCost`.
     * Absent: off, since a site's broker picks a plant from load reports, which know no peer images.
     */
    imageFetch: z.strictObject({
      bytesPerSecond: z.number().positive().default(IMAGE_FETCH_DEFAULTS.bytesPerSecond),
      costPerSecond: z.number().min(0).default(IMAGE_FETCH_DEFAULTS.costPerSecond),
      /** how long a bid waits for the DHT, in ms (at most half the call's window) */
      lookupMs: z.number().int().min(1).max(60_000).default(IMAGE_FETCH_DEFAULTS.lookupMs)
    }).optional(),
    /** orders in production past which the plant declines calls and refuses orders as "busy" */
    maxQueuedOrders: z.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(DEFAULT_MAX_QUEUED_ORDERS),
    /** golden images learned from repeated action prefixes */
    learning: z.strictObject({
      /** requests of one prefix after which it becomes a golden image; 0: never */
      after: z.number().int().min(0).default(0),
      /** total size of the warehouse's images, MB; least recently used ones beyond it are evicted */
      diskBudgetMB: z.number().min(0).optional()
    }).default({ after: 0 })
  }).default({ cost: costConfigSchema.parse({}), driver: { kind: 'sim', cloneMs: 0, resumeMs: 0, actionMs: 0, goldenMs: 0 }, learning: { after: 0 }, maxQueuedOrders: DEFAULT_MAX_QUEUED_ORDERS }),
  broker: z.strictObject({
    windowShare: z.number().gt(0).lt(1).default(0.6)
  }).default({ windowShare: 0.6 }),
  /**
   * requests one connection may have in flight on a protocol (a client's creates, a shop's orders
   * to this plant or its queries) before more are answered "busy" at once
   */
  maxRequestsPerConnection: z.number().int().min(1, 'must be at least 1').max(MAX_STREAMS_PER_CONNECTION - 1, `must be below ${MAX_STREAMS_PER_CONNECTION}: past that libp2p resets streams on a connection rather than let them be answered "busy"`).default(DEFAULT_MAX_INBOUND_STREAMS),
  /** how often to redial bootstrap peers that are not connected, in ms */
  redialMs: z.number().int().min(100).default(2000),
  /**
   * how long a graceful stop (SIGTERM) may take before the node exits and says what it abandoned,
   * in ms: under systemd's TimeoutStopSec (30 s in config/vmplant-node@.service)
   */
  stopTimeoutMs: z.number().int().min(100).default(25_000),
  /**
   * DHT role: 'server' nodes (shops and brokers by default) hold the routing table and provider
   * records; 'client' nodes (plants by default) ask them. Plants as servers would connect to every
   * other plant they learn of, and gossipsub would then relay every call for bids among them.
   */
  dht: z.enum(['server', 'client']).optional(),
  /**
   * Prometheus metrics on http://<listen>/metrics; absent: off. No authentication, so keep it on
   * loopback or a management network. @default listen '127.0.0.1:9464'
   */
  metrics: z.strictObject({
    listen: z.string().refine(isHostPort, 'must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464 (port 0..65535)').default(METRICS_LISTEN)
  }).optional(),
  /** the node's log lines (`src/daemon/log.ts`): `format` 'json' or 'text'; @default text on a terminal, else JSON lines */
  log: z.strictObject({
    format: z.enum(['json', 'text']).optional()
  }).optional(),
  /**
   * who may see this node's VMs and networks by id on `/vmplant/status/1.0.0`: peer ids besides the
   * node's own (whose key the operator holds); anyone else who can connect gets counts only
   */
  status: z.strictObject({
    allow: z.array(z.string().refine((s) => { try { peerIdFromString(s); return true } catch { return false } }, 'is not a peer id')).default([])
  }).optional(),
  /**
   * a closed federation: `psk`, a swarm key file (relative to the config file; make one with
   * `vmplant federation key --out FILE`) every member and client shares, and `allow`, the peer ids
   * (nodes and clients) this node may connect with. Absent: open to any peer.
   */
  federation: z.strictObject({
    psk: z.string().min(1).optional(),
    allow: z.array(z.string().refine((s) => { try { peerIdFromString(s); return true } catch { return false } }, 'is not a peer id')).optional()
  }).optional()
}).superRefine((config, ctx) => {
  if (config.roles.includes('broker') && config.site === undefined) ctx.addIssue({ code: 'custom', path: ['site'], message: 'a broker needs the site it serves' })
})
export type NodeConfig = z.output<typeof nodeConfigSchema>

/**
 * Checks a config object; paths in errors are relative to `source` (a file name or 'config'). The
 * error lists every problem at once, one a line; `positioned`, the text it was read from, adds
 * each one's line and column.
 */
export function validateNodeConfig (input: unknown, source = 'config', positioned?: PositionedDocument): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(input ?? {})
  if (parsed.success) return parsed.data
  throw new ConfigError(parsed.error.issues.map((issue) => {
    const path = issue.path.map((k) => typeof k === 'number' ? `[${k}]` : `.${String(k)}`).join('').replace(/^\./, '')
    const what = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message
    const where = positioned?.positionOf(issue.path, issue.code === 'unrecognized_keys' ? issue.keys : undefined)
    return `${source}: ${path !== '' ? `${path}: ` : ''}${what}${atPosition(where)}`
  }).join('\n'))
}

/** Reads a YAML (or JSON) node config; relative paths in it are taken from the file's folder. */
export async function loadNodeConfig (file: string): Promise<NodeConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err: unknown) {
    throw new ConfigError(`cannot read config ${file}: ${errorMessage(err)}`, { cause: err })
  }
  const deep = nestingTooDeep(text)
  if (deep !== undefined) throw new ConfigError(`${file} nests deeper than ${MAX_TEXT_NESTING} levels at line ${deep}`)
  let positioned: PositionedDocument
  let raw: unknown
  try {
    ({ value: raw, positioned } = parseValuePositioned(text))
  } catch (err: unknown) {
    throw new ConfigError(`${file} is not valid YAML: ${yamlErrorText(err)}`, { cause: err })
  }
  const config = validateNodeConfig(raw, file, positioned)
  const base = dirname(resolve(file))
  const federation = config.federation?.psk !== undefined ? { federation: { ...config.federation, psk: resolve(base, config.federation.psk) } } : {}
  return { ...config, dataDir: resolve(base, config.dataDir), ...(config.keyFile !== undefined ? { keyFile: resolve(base, config.keyFile) } : {}), ...federation }
}
