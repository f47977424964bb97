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
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

const run = promisify(execFile)
const PREFIX = 'vnt'
const OWNED = /^vnt(\d+)r[0-9a-f]+-/

export const PLANT_WAN = '10.201.0.1'
export const CLIENT_WAN = '10.201.0.2'
export const VM_ADDRESS = '192.168.77.10'
export const HOST_ADDRESS = '192.168.77.20'
export const PLANT_BRIDGE = 'dombr'
export const LAN_BRIDGE = 'lan0'

export interface NsProcess {
  pid: number
  child: ChildProcess
  output: () => string
  /** resolves with the first line of stdout that `match` accepts; rejects on exit or after `timeoutMs` */
  waitFor: (match: RegExp, timeoutMs: number) => Promise<string>
  kill: (signal?: NodeJS.Signals) => Promise<void>
}

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

async function ip (args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8' })).stdout
  } catch (err: any) {
    throw new Error(`ip ${args.join(' ')} failed: ${String(err?.stderr ?? err?.message).trim()}`, { cause: err })
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

async function removeNamespace (ns: string): Promise<void> {
  const pids = await ip(['netns', 'pids', ns]).catch(() => '')
  for (const pid of pids.split('\n').filter((l) => l !== '').map(Number)) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  await ip(['netns', 'del', ns]).catch(() => {})
}

/** pids started here and still running: killed if this process exits first (a timed-out test) */
const started = new Set<number>()
process.on('exit', () => {
  for (const pid of started) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
})

export async function buildSites (): Promise<Sites> {
  const existing = (await ip(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '')
  for (const ns of existing) {
    const owner = OWNED.exec(ns)
    if (owner !== null && Number(owner[1]) !== process.pid && !alive(Number(owner[1]))) await removeNamespace(ns)
  }
  const runId = `${process.pid}r${randomBytes(3).toString('hex')}`
  const made: string[] = []
  const processes = new Set<NsProcess>()
  const exec = async (ns: string, argv: string[], timeoutMs = 30_000): Promise<string> => {
    try {
      return (await run('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs })).stdout
    } catch (err: any) {
      throw new Error(`in ${ns}: ${argv.join(' ')} failed: ${String(err?.stderr || err?.message).trim()}`, { cause: err })
    }
  }
  const remove = async (): Promise<void> => {
    await Promise.all([...processes].map(async (p) => { await p.kill() }))
    for (const ns of made.splice(0).reverse()) await removeNamespace(ns)
  }
  const spawnIn = (ns: string, args: string[]): NsProcess => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
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
      pid,
      child,
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
        processes.delete(proc)
        if (child.exitCode !== null || child.signalCode !== null) return
        try { process.kill(pid, signal) } catch {}
        await exited
      }
    }
    processes.add(proc)
    return proc
  }
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
