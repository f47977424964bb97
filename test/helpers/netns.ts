/**
 * Sites as separate hosts, for tests: network namespaces joined by veth links and bridges.
 *
 * One `core` namespace is the wide-area network: it holds one bridge per site (with the site's
 * gateway address) and routes between sites. Every host (a broker, a plant, the shop, a client) is
 * a namespace of its own with one veth (`eth0`) into its site's bridge. The client site also has a
 * LAN of its own: a bridge inside the client gateway's namespace that the core does not route to.
 * Nothing is made in the host's own namespace, so interface names cannot collide between test
 * runs; namespace names carry the owner's pid, so a later run removes what a crashed one left.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { processAlive, VMPLANT_BIN } from './processes.js'

const run = promisify(execFile)

/** Every namespace this harness makes starts with it: `vpt<pid>r<hex>-<name>`. */
export const NETNS_PREFIX = 'vpt'

/** An address plan: site N is 10.77.N.0/24, gateway .1 in the core, hosts from .10. */
export const SUBNET_BASE = '10.77'
/** The client's LAN, which no site routes to. */
export const CLIENT_LAN = '10.77.250'

export interface NetHost {
  /** the namespace's name, for `ip netns exec` */
  ns: string
  /** the host's address on its site network */
  address: string
  site: string
}

export interface NetSite {
  name: string
  /** e.g. 10.77.1 */
  subnet: string
  hosts: NetHost[]
}

export interface ClientSite extends NetSite {
  /** the client's gateway: on the site network (eth0) and on its own LAN bridge (`lan0`, .1) */
  gateway: NetHost
  /** a machine on the client's LAN only */
  lanHost: NetHost
  /** the LAN bridge's name inside the gateway's namespace */
  lanBridge: string
}

export interface Topology {
  runId: string
  core: string
  sites: NetSite[]
  shop: NetHost
  client: ClientSite
  /** every namespace of this run, the core last */
  namespaces: string[]
  /** runs a command inside a namespace and returns its stdout; throws on a non-zero exit */
  exec(ns: string, argv: string[], options?: { timeoutMs?: number }): Promise<string>
  /** true when one ping from `from` reaches `to` within the deadline */
  ping(from: NetHost | string, to: string, timeoutS?: number): Promise<boolean>
  /** starts `node args...` inside a namespace; ended by pid at teardown */
  spawnNode(ns: string, args: string[], env?: NodeJS.ProcessEnv): NsProcess
  /** starts any program (`argv[0]`, e.g. busybox udhcpd) inside a namespace; ended by pid at teardown */
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): NsProcess
  /** ends every process started here, then removes every namespace; idempotent */
  remove(): Promise<void>
}

export interface NsProcess {
  child: ChildProcess
  pid: number
  /** stdout and stderr so far */
  output: () => string
  /** resolves with the first line of stdout that `match` accepts; rejects on exit or after `timeoutMs` */
  waitFor: (match: RegExp, timeoutMs: number) => Promise<string>
  /** signals the process by pid (SIGKILL by default) and waits for its exit */
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** A `vmplant node` running inside a namespace, with its ready line. */
export interface NsNode extends NsProcess {
  ready: { peer: string, addrs: string[], roles: string[] }
}

/**
 * Starts `vmplant node --config FILE` inside a namespace and waits for its ready line; the
 * topology's `remove()` ends it (by pid) if the test does not.
 */
export async function startNodeIn (topo: Topology, ns: string, config: string, bin: string, timeoutMs = 30_000): Promise<NsNode> {
  return await startReady(topo.spawnNode(ns, [bin, 'node', '--config', config]), timeoutMs)
}

/** Starts the shop in its namespace, on port 4001 of its address, with its config written by `write`; returns it and its multiaddr. */
export async function startShopIn (topo: Topology, write: (name: string, text: string) => Promise<string>, bidWindowMs: number): Promise<{ shop: NsNode, shopAddr: string }> {
  const config = await write('shop.yaml', `roles: [shop]\nlisten: [/ip4/${topo.shop.address}/tcp/4001]\ndataDir: shop\nshop:\n  bidWindowMs: ${bidWindowMs}\n`)
  const shop = await startNodeIn(topo, topo.shop.ns, config, VMPLANT_BIN)
  return { shop, shopAddr: `/ip4/${topo.shop.address}/tcp/4001/p2p/${shop.ready.peer}` }
}

/** Waits for a process's `{"event":"ready",...}` line; kills it if none comes. */
export async function startReady (proc: NsProcess, timeoutMs = 30_000): Promise<NsNode> {
  try {
    return { ...proc, ready: JSON.parse(await proc.waitFor(/"event":"ready"/, timeoutMs)) }
  } catch (err) {
    await proc.kill()
    throw err
  }
}

export interface TopologyOptions {
  /** sites with a broker and plants; @default 3 */
  sites?: number
  /** hosts per site (the first is the broker's); @default 2 */
  hostsPerSite?: number
}

/** Runs `ip ARGS` in the host's namespace; the error carries ip's stderr. */
export async function ip (args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8' })).stdout
  } catch (err: any) {
    throw new Error(`ip ${args.join(' ')} failed: ${String(err?.stderr ?? err?.message).trim()}`, { cause: err })
  }
}

/** Runs a command inside a namespace and returns its stdout; throws on a non-zero exit, naming the namespace. */
export async function nsExec (ns: string, argv: string[], timeoutMs = 30_000): Promise<string> {
  try {
    return (await run('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs })).stdout
  } catch (err: any) {
    throw new Error(`in ${ns}: ${argv.join(' ')} failed: ${String(err?.stderr || err?.message).trim()}`, { cause: err })
  }
}

/** The namespaces that exist now. */
export async function listNamespaces (): Promise<string[]> {
  return (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '')
}

/** Kills whatever still runs in a namespace (by pid: linux.uml, socat, nodes), then deletes it. */
export async function removeNamespace (ns: string): Promise<void> {
  let pids: number[] = []
  try {
    pids = (await ip(['netns', 'pids', ns])).split('\n').filter((l) => l !== '').map(Number)
  } catch {}
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  await ip(['netns', 'del', ns]).catch(() => {})
}

/**
 * Removes the namespaces an earlier run left behind when it crashed: those named
 * `<prefix><pid>r<hex>-...` whose owner process is gone. Namespaces of live runs (parallel ava
 * workers) are left alone.
 */
export async function sweepStaleNamespaces (prefix = NETNS_PREFIX): Promise<string[]> {
  const owned = new RegExp(`^${prefix}(\\d+)r[0-9a-f]+-`)
  const stale = (await listNamespaces()).filter((ns) => {
    const owner = owned.exec(ns)
    return owner !== null && Number(owner[1]) !== process.pid && !processAlive(Number(owner[1]))
  })
  for (const ns of stale) await removeNamespace(ns)
  return stale
}

/** A fresh run id for namespace names: the owner's pid, so that a sweep knows when it died. */
export function newRunId (): string {
  return `${process.pid}r${randomBytes(3).toString('hex')}`
}

/** Processes started in namespaces by this process: killed if it exits first (a timed-out test). */
const started = new Set<number>()
process.on('exit', () => {
  for (const pid of started) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
})

/**
 * Starts `node args...` (or `program args...`) inside a namespace and adds it to `owner`, which
 * its `kill` removes it from. `ip netns exec` execs the program in place, so the pid is its own.
 */
export function spawnInNamespace (ns: string, args: string[], owner: Set<NsProcess>, env: NodeJS.ProcessEnv = {}, program: string = process.execPath): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, program, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const pid = child.pid as number
  started.add(pid)
  let output = ''
  const lines: string[] = []
  const waiters = new Set<() => void>()
  createInterface({ input: child.stdout! }).on('line', (line) => {
    output += line + '\n'
    lines.push(line)
    for (const w of waiters) w()
  })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit').then(() => undefined, () => undefined)
  child.on('exit', () => { started.delete(pid); for (const w of waiters) w() })
  const proc: NsProcess = {
    child,
    pid,
    output: () => output,
    waitFor: async (match, timeoutMs) => await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no line matching ${String(match)} in ${timeoutMs} ms; output:\n${output}`)) }, timeoutMs)
      const check = (): void => {
        const found = lines.find((l) => match.test(l))
        if (found !== undefined) { clearTimeout(timer); waiters.delete(check); resolve(found); return }
        if (child.exitCode !== null || child.signalCode !== null) { clearTimeout(timer); waiters.delete(check); reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before a line matching ${String(match)}; output:\n${output}`)) }
      }
      waiters.add(check)
      check()
    }),
    kill: async (signal = 'SIGKILL') => {
      owner.delete(proc)
      if (child.exitCode !== null || child.signalCode !== null) return
      try { process.kill(pid, signal) } catch {}
      await exited
    }
  }
  owner.add(proc)
  return proc
}

/**
 * Builds `sites` sites of `hostsPerSite` hosts, a shop site and a client site. The caller must
 * `remove()` it (in `t.teardown`); a build that fails half-way removes what it made and throws.
 */
export async function buildTopology (options: TopologyOptions = {}): Promise<Topology> {
  const siteCount = options.sites ?? 3
  const hostsPerSite = options.hostsPerSite ?? 2
  if (siteCount < 1 || siteCount > 200) throw new RangeError(`sites must be 1..200, not ${siteCount}`)
  if (hostsPerSite < 1 || hostsPerSite > 200) throw new RangeError(`hostsPerSite must be 1..200, not ${hostsPerSite}`)
  await sweepStaleNamespaces()
  const runId = newRunId()
  const name = (part: string): string => `${NETNS_PREFIX}${runId}-${part}`
  const core = name('core')
  const made: string[] = []
  const processes = new Set<NsProcess>()

  const exec = async (ns: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> => await nsExec(ns, argv, opts.timeoutMs)
  const addNamespace = async (ns: string): Promise<void> => {
    await ip(['netns', 'add', ns])
    made.push(ns)
    await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  const remove = async (): Promise<void> => {
    await Promise.all([...processes].map(async (p) => await p.kill()))
    // the core last: hosts' veths die with their namespaces
    for (const ns of made.splice(0).reverse()) await removeNamespace(ns)
  }

  /** a host namespace with eth0 on `bridge` in `bridgeNs` */
  const addHost = async (hostName: string, bridgeNs: string, bridge: string, peerName: string, address: string, gateway: string | undefined, site: string): Promise<NetHost> => {
    const ns = name(hostName)
    await addNamespace(ns)
    await ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peerName, 'netns', bridgeNs])
    await ip(['-n', bridgeNs, 'link', 'set', peerName, 'master', bridge, 'up'])
    await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
    if (gateway !== undefined) await ip(['-n', ns, 'route', 'add', 'default', 'via', gateway])
    return { ns, address, site }
  }
  const addSite = async (siteName: string, index: number, hosts: string[]): Promise<NetSite> => {
    const subnet = `${SUBNET_BASE}.${index}`
    const bridge = `br${index}`
    await ip(['-n', core, 'link', 'add', bridge, 'type', 'bridge'])
    await ip(['-n', core, 'addr', 'add', `${subnet}.1/24`, 'dev', bridge])
    await ip(['-n', core, 'link', 'set', bridge, 'up'])
    const site: NetSite = { name: siteName, subnet, hosts: [] }
    for (const [k, host] of hosts.entries()) site.hosts.push(await addHost(`${siteName}-${host}`, core, bridge, `v${index}h${k}`, `${subnet}.${10 + k}`, `${subnet}.1`, siteName))
    return site
  }

  try {
    await addNamespace(core)
    await exec(core, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
    const sites: NetSite[] = []
    for (let i = 1; i <= siteCount; i++) sites.push(await addSite(`s${i}`, i, Array.from({ length: hostsPerSite }, (_, k) => k === 0 ? 'broker' : `plant${k}`)))
    const shopSite = await addSite('shop', 240, ['shop'])
    const clientNet = await addSite('client', 241, ['gw'])
    const gateway = clientNet.hosts[0] as NetHost
    // the client's own LAN: a bridge in the gateway's namespace, not routed by the core
    const lanBridge = 'lan0'
    await ip(['-n', gateway.ns, 'link', 'add', lanBridge, 'type', 'bridge'])
    await ip(['-n', gateway.ns, 'addr', 'add', `${CLIENT_LAN}.1/24`, 'dev', lanBridge])
    await ip(['-n', gateway.ns, 'link', 'set', lanBridge, 'up'])
    const lanHost = await addHost('client-lan', gateway.ns, lanBridge, 'lanh0', `${CLIENT_LAN}.10`, `${CLIENT_LAN}.1`, 'client')
    const client: ClientSite = { ...clientNet, hosts: [gateway, lanHost], gateway, lanHost, lanBridge }

    const spawnNode = (ns: string, args: string[], env: NodeJS.ProcessEnv = {}): NsProcess => spawnInNamespace(ns, args, processes, env)
    const spawnProgram = (ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): NsProcess => {
      const [program, ...args] = argv
      if (program === undefined) throw new TypeError('spawn needs a program')
      return spawnInNamespace(ns, args, processes, env, program)
    }
    const ping = async (from: NetHost | string, to: string, timeoutS = 2): Promise<boolean> => {
      const ns = typeof from === 'string' ? from : from.ns
      try {
        await exec(ns, ['ping', '-c', '1', '-W', String(timeoutS), to], { timeoutMs: (timeoutS + 5) * 1000 })
        return true
      } catch {
        return false
      }
    }
    return { runId, core, sites, shop: shopSite.hosts[0] as NetHost, client, namespaces: [...made].reverse(), exec, ping, spawnNode, spawn: spawnProgram, remove }
  } catch (err) {
    await remove()
    throw err
  }
}
