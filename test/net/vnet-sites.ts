/**
 * Two sites in network namespaces for the VNET tests and bench/vnet:
 *
 *   vm (192.168.77.10) ── dombr [plant site] ══ wan 10.201.0.1 ↔ 10.201.0.2 ══ [client site] lan0 ── host (192.168.77.20)
 *
 * The plant site's bridge `dombr` stands for a domain's host-only network with a VM behind it; the
 * client site's `lan0` is the client's LAN with a host on it. Neither bridge has an address and
 * nothing routes between them: a frame crosses only through a tunnel. The libp2p nodes run in the
 * site namespaces and talk over the `wan` veth. IPv6 is off, so every frame counted is the test's.
 * Namespace names carry the owner's pid; a later run removes those whose owner died.
 */
import { ip, newRunId, nsExec, removeNamespace, spawnInNamespace, sweepStaleNamespaces, type NsProcess } from '../helpers/netns.js'

export type { NsProcess } from '../helpers/netns.js'

const PREFIX = 'vnt'

export const PLANT_WAN = '10.201.0.1'
export const CLIENT_WAN = '10.201.0.2'
export const VM_ADDRESS = '192.168.77.10'
export const HOST_ADDRESS = '192.168.77.20'
export const PLANT_BRIDGE = 'dombr'
export const LAN_BRIDGE = 'lan0'

export interface Sites {
  plant: string
  client: string
  vm: string
  host: string
  exec: (ns: string, argv: string[], timeoutMs?: number) => Promise<string>
  /** runs `node args...` inside a namespace; killed by pid at `remove()` */
  spawn: (ns: string, args: string[]) => NsProcess
  remove: () => Promise<void>
}

/** Builds the two sites (namespaces of test/helpers/netns.ts, prefixed `vnt`); the caller must `remove()` them. */
export async function buildSites (): Promise<Sites> {
  await sweepStaleNamespaces(PREFIX)
  const runId = newRunId()
  const made: string[] = []
  const processes = new Set<NsProcess>()
  const exec = nsExec
  const remove = async (): Promise<void> => {
    await Promise.all([...processes].map(async (p) => { await p.kill() }))
    for (const ns of made.splice(0).reverse()) await removeNamespace(ns)
  }
  const spawnIn = (ns: string, args: string[]): NsProcess => spawnInNamespace(ns, args, processes)
  try {
    const name = (part: string): string => `${PREFIX}${runId}-${part}`
    const [plant, client, vm, host] = [name('p'), name('c'), name('v'), name('h')]
    for (const ns of [plant, client, vm, host]) {
      await ip(['netns', 'add', ns])
      made.push(ns)
      await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      await exec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
    }
    // the wide-area link between the sites
    await ip(['-n', plant, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', 'wan', 'netns', client])
    await ip(['-n', plant, 'addr', 'add', `${PLANT_WAN}/24`, 'dev', 'wan'])
    await ip(['-n', client, 'addr', 'add', `${CLIENT_WAN}/24`, 'dev', 'wan'])
    await ip(['-n', plant, 'link', 'set', 'wan', 'up'])
    await ip(['-n', client, 'link', 'set', 'wan', 'up'])
    // each site's bridge, and a machine behind it
    for (const [site, bridge, machine, address] of [[plant, PLANT_BRIDGE, vm, VM_ADDRESS], [client, LAN_BRIDGE, host, HOST_ADDRESS]] as const) {
      await ip(['-n', site, 'link', 'add', 'name', bridge, 'type', 'bridge'])
      await ip(['-n', site, 'link', 'set', bridge, 'up'])
      await ip(['-n', machine, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'port', 'netns', site])
      await ip(['-n', site, 'link', 'set', 'port', 'master', bridge, 'up'])
      await ip(['-n', machine, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      await ip(['-n', machine, 'link', 'set', 'eth0', 'up'])
    }
    return { plant, client, vm, host, exec, spawn: spawnIn, remove }
  } catch (err) {
    await remove()
    throw err
  }
}

/** true when one ping from namespace `ns` reaches `to` within `timeoutS` */
export async function pingOnce (sites: Sites, ns: string, to: string, timeoutS = 1): Promise<boolean> {
  try {
    await sites.exec(ns, ['ping', '-c', '1', '-W', String(timeoutS), to], (timeoutS + 5) * 1000)
    return true
  } catch {
    return false
  }
}

/** pings until one answer comes back, or throws after `deadlineMs` */
export async function pingUntil (sites: Sites, ns: string, to: string, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs
  let tries = 0
  for (;;) {
    tries++
    if (await pingOnce(sites, ns, to)) return tries
    if (Date.now() > until) throw new Error(`${to} did not answer a ping from ${ns} in ${deadlineMs} ms`)
  }
}

/** the kernel's counters and index of an interface in a namespace */
export async function linkStats (sites: Sites, ns: string, dev: string): Promise<{ ifindex: number, rxPackets: number, txPackets: number }> {
  const [info] = JSON.parse(await sites.exec(ns, ['ip', '-s', '-j', 'link', 'show', 'dev', dev])) as Array<{ ifindex: number, stats64: { rx: { packets: number }, tx: { packets: number } } }>
  if (info === undefined) throw new Error(`no ${dev} in ${ns}`)
  return { ifindex: info.ifindex, rxPackets: info.stats64.rx.packets, txPackets: info.stats64.tx.packets }
}

/** the IPv4 addresses of every interface in a namespace, for before/after comparisons */
export async function addresses (sites: Sites, ns: string): Promise<string> {
  return (await sites.exec(ns, ['ip', '-4', '-br', 'addr'])).trim()
}
