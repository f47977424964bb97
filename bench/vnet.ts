/**
 * bench/vnet: throughput (iperf3) and round-trip time (ping) between two namespaces, through the
 * VNET tunnel and over a plain veth, in one run.
 *
 *   node dist/bench/vnet.js [--seconds 10] [--pings 500] [--mtu 1500]
 *
 * Tunnel path: a host on the client LAN (192.168.77.20) to a "VM" behind the plant's domain
 * bridge (192.168.77.10): LAN bridge → tap → socat → the proxy's node → noise/yamux/TCP over the
 * wan veth → the plant's node → socat → tap → domain bridge. Plain path: the two site namespaces
 * over the wan veth itself (10.201.0.2 → 10.201.0.1). Needs root, iproute2, socat, iperf3, ping.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { runCli } from '../test/helpers/cli.js'
import { tempDir } from '../test/helpers/temp.js'
import { buildSites, pingUntil, PLANT_WAN, CLIENT_WAN, LAN_BRIDGE, PLANT_BRIDGE, VM_ADDRESS, type Sites } from '../test/net/vnet-sites.js'
import { summarize } from './stats.js'

const VMPLANT_BIN = fileURLToPath(new URL('../../bin/vmplant.js', import.meta.url))
const PLANT_CHILD = fileURLToPath(new URL('../test/net/vnet-plant.js', import.meta.url))
const CLIENT_CHILD = fileURLToPath(new URL('../test/net/vnet-client.js', import.meta.url))

function flag (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const value = Number(process.argv[i + 1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${process.argv[i + 1]}`)
  return value
}

async function iperf (sites: Sites, serverNs: string, clientNs: string, address: string, seconds: number): Promise<number> {
  const server = sites.spawn(serverNs, ['-e', `require('child_process').spawn('iperf3', ['-s', '-1', '--forceflush', '-B', '${address}'], { stdio: 'inherit' }).on('exit', (c) => process.exit(c ?? 1))`])
  await server.waitFor(/Server listening/, 10_000)
  const out = await sites.exec(clientNs, ['iperf3', '-J', '-c', address, '-t', String(seconds)], (seconds + 30) * 1000)
  await server.kill()
  const report = JSON.parse(out) as { end: { sum_received: { bits_per_second: number }, sum_sent: { retransmits?: number } } }
  if (process.argv.includes('--stats')) console.log(`iperf3 to ${address}: ${report.end.sum_sent.retransmits ?? '?'} retransmits`)
  return report.end.sum_received.bits_per_second
}

/** CPU seconds (user + system) a process (a node) and its children (its socats) used so far, from /proc */
async function cpuSeconds (pid: number): Promise<{ node: number, socat: number }> {
  const children = await promisify(execFile)('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).then((r) => r.stdout.split('\n').filter((l) => l !== '').map(Number), () => [] as number[])
  const ticks = async (p: number): Promise<number> => {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  }
  let socat = 0
  for (const child of children) socat += await ticks(child)
  return { node: await ticks(pid) / 100, socat: socat / 100 }
}

async function tunnelCpu (pids: number[]): Promise<{ node: number, socat: number }> {
  const total = { node: 0, socat: 0 }
  for (const pid of pids) {
    const used = await cpuSeconds(pid)
    total.node += used.node
    total.socat += used.socat
  }
  return total
}

/** UDP datagrams received in a namespace: each is one frame between a tap's socat and its node */
async function udpIn (sites: Sites, ns: string): Promise<number> {
  const lines = (await sites.exec(ns, ['cat', '/proc/net/snmp'])).split('\n').filter((l) => l.startsWith('Udp:'))
  const names = lines[0]?.split(' ') ?? []
  const values = lines[1]?.split(' ') ?? []
  return Number(values[names.indexOf('InDatagrams')] ?? 0)
}

async function pings (sites: Sites, ns: string, address: string, count: number): Promise<number[]> {
  const out = await sites.exec(ns, ['ping', '-c', String(count), '-i', '0.01', '-W', '1', address], count * 1000)
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]))
}

async function main (): Promise<void> {
  const seconds = flag('seconds', 10)
  const count = flag('pings', 500)
  const mtu = flag('mtu', 1500)
  const dir = await tempDir('vmplant-bench-vnet-')
  let sites: Sites | undefined
  try {
    sites = await buildSites()
    const s = sites
    for (const [ns, dev] of [[s.plant, 'port'], [s.vm, 'eth0'], [s.client, 'port'], [s.host, 'eth0']] as const) await s.exec(ns, ['ip', 'link', 'set', 'dev', dev, 'mtu', String(mtu)])
    const key = join(dir.path, 'client.key')
    const domainKey = (await runCli('domain', 'create', 'bench', '--key', key)).out.trim()
    const client = JSON.parse((await runCli('domain', 'list', '--json', '--key', key)).out).client as string
    const credential = join(dir.path, 'credential.json')
    await runCli('domain', 'grant', 'bench', '--client', client, '--out', credential, '--key', key)

    const shopConfig = join(dir.path, 'shop.yaml')
    await writeFile(shopConfig, `roles: [shop]\nlisten: [/ip4/${PLANT_WAN}/tcp/4001]\ndataDir: shop\n`)
    const shop = s.spawn(s.plant, [VMPLANT_BIN, 'node', '--config', shopConfig])
    const shopAddr = `/ip4/${PLANT_WAN}/tcp/4001/p2p/${JSON.parse(await shop.waitFor(/"event":"ready"/, 30_000)).peer as string}`
    // VNET_PROFILE_DIR=/some/dir writes CPU profiles of the two tunnel ends there
    const profile = process.env.VNET_PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VNET_PROFILE_DIR}`] : []
    const plant = s.spawn(s.plant, [...profile, PLANT_CHILD, JSON.stringify({ dataDir: join(dir.path, 'plant'), listen: `/ip4/${PLANT_WAN}/tcp/4002`, shop: shopAddr, domain: 'bench', domainKey, bridge: PLANT_BRIDGE, mtu })])
    const plantPeer = JSON.parse(await plant.waitFor(/"event":"ready"/, 30_000)).peer as string
    const tunnel = s.spawn(s.client, [...profile, CLIENT_CHILD, JSON.stringify({ key, plant: `/ip4/${PLANT_WAN}/tcp/4002/p2p/${plantPeer}`, domain: 'bench', credential, bridge: LAN_BRIDGE, tap: 'vnbench', mtu })])
    await tunnel.waitFor(/"type":"up"/, 30_000)
    await pingUntil(s, s.host, VM_ADDRESS, 20_000)

    const plainRtt = summarize(await pings(s, s.client, PLANT_WAN, count))
    const tunnelRtt = summarize(await pings(s, s.host, VM_ADDRESS, count))
    const plainBps = await iperf(s, s.plant, s.client, PLANT_WAN, seconds)
    if (process.argv.includes('--stats')) console.error('measuring the tunnel\'s throughput')
    const cpuBefore = await tunnelCpu([plant.pid, tunnel.pid])
    const framesBefore = await udpIn(s, s.plant) + await udpIn(s, s.client)
    const tunnelBps = await iperf(s, s.vm, s.host, VM_ADDRESS, seconds)
    const cpuAfter = await tunnelCpu([plant.pid, tunnel.pid])
    const cpu = { node: cpuAfter.node - cpuBefore.node, socat: cpuAfter.socat - cpuBefore.socat }
    const cpuUsed = cpu.node + cpu.socat
    // each frame is received twice as a datagram: by the node from its socat on one side, by socat from its node on the other
    const frames = (await udpIn(s, s.plant) + await udpIn(s, s.client) - framesBefore) / 2

    if (process.argv.includes('--stats')) {
      for (const ns of [s.client, s.plant]) {
        const udp = (await s.exec(ns, ['cat', '/proc/net/snmp'])).split('\n').filter((l) => l.startsWith('Udp:'))
        console.log(`${ns} ${udp.join(' / ')}`)
        console.log((await s.exec(ns, ['ip', '-s', '-s', 'link', 'show', 'type', 'tun'])).trim())
        console.log((await s.exec(ns, ['ip', '-s', 'link', 'show'])).split('\n').filter((l) => /tap|vn|TX|RX|\d/.test(l)).slice(0, 0).join('\n'))
      }
    }
    // stopped gently, so that they remove their taps (and write their profiles)
    await tunnel.kill('SIGTERM')
    await plant.kill('SIGTERM')
    const load = loadavg().map((l) => l.toFixed(1)).join(' ')
    console.log(`bench/vnet ${new Date().toISOString()}  ${cpus().length} × ${cpus()[0]?.model ?? '?'}  load ${load}  MTU ${mtu}  iperf3 ${seconds} s  ${count} pings at 10 ms`)
    console.log('| path | throughput Gbit/s | RTT p50 ms | RTT p99 ms | RTT mean ms |')
    console.log('|---|---|---|---|---|')
    console.log(`| plain veth ${CLIENT_WAN} → ${PLANT_WAN} | ${(plainBps / 1e9).toFixed(2)} | ${plainRtt.p50.toFixed(3)} | ${plainRtt.p99.toFixed(3)} | ${plainRtt.mean.toFixed(3)} |`)
    console.log(`| tunnel LAN → domain bridge | ${(tunnelBps / 1e9).toFixed(2)} | ${tunnelRtt.p50.toFixed(3)} | ${tunnelRtt.p99.toFixed(3)} | ${tunnelRtt.mean.toFixed(3)} |`)
    console.log(`tunnel/plain throughput ${(tunnelBps / plainBps).toFixed(3)}; added RTT p50 ${(tunnelRtt.p50 - plainRtt.p50).toFixed(3)} ms, p99 ${(tunnelRtt.p99 - plainRtt.p99).toFixed(3)} ms`)
    console.log(`tunnel CPU (both nodes and both socats) during the tunnel iperf3: ${cpuUsed.toFixed(1)} s for ${frames} frames, ${(cpuUsed / frames * 1e6).toFixed(1)} µs a frame (nodes ${(cpu.node / frames * 1e6).toFixed(1)}, socats ${(cpu.socat / frames * 1e6).toFixed(1)}), ${(cpuUsed / seconds).toFixed(2)} cores`)
    console.log(`targets: >= 1 Gbit/s through the tunnel: ${tunnelBps >= 1e9 ? 'met' : 'NOT met'}; added RTT < 0.5 ms at p50: ${tunnelRtt.p50 - plainRtt.p50 < 0.5 ? 'met' : 'NOT met'}`)
  } finally {
    await sites?.remove()
    await dir.remove()
  }
}

await main()
