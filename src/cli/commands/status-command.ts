import type { Command } from 'commander'
import type { NodeStatus } from '../../net/protocols/status/schema.js'
import { defaultClientKeyFile } from '../identity.js'
import type { Output } from '../output.js'
import { ProfileOption } from './profile-options.js'

interface StatusOptions { node: string, key?: string, psk?: string, json?: boolean }

export function registerStatusCommand (program: Command, out: Output): void {
  program.command('status')
    .description("print a node's view of itself: roles, peers, and on a plant its VMs, domain networks and images (VMs and networks by id only if this client's peer id is in the node's status.allow; counts otherwise)")
    .requiredOption('--node <multiaddr>', 'the node to ask, e.g. /ip4/127.0.0.1/tcp/4002/p2p/12D3Koo...')
    .addOption(new ProfileOption('--key <file>', `the identity to ask as; default: ${defaultClientKeyFile()}`, 'key'))
    .addOption(new ProfileOption('--psk <file>', "a closed federation's swarm key (`vmplant federation key`), needed to reach its nodes", 'psk'))
    .option('--json', 'print the status as JSON')
    .action(async (options: StatusOptions) => {
      // libp2p and the key load only now
      const [{ askStatus }, { loadOrCreateKey }, { readSwarmKey }, { multiaddr }, { peerIdFromPrivateKey }] = await Promise.all([
        import('../../net/protocols/status/ask.js'), import('../../net/keys.js'), import('../../net/federation.js'), import('@multiformats/multiaddr'), import('@libp2p/peer-id')
      ])
      const { UsageError } = await import('../errors.js')
      try {
        if (!multiaddr(options.node).getComponents().some((c) => c.name === 'p2p')) throw new Error('it has no /p2p/<peer id>')
      } catch (err: unknown) {
        throw new UsageError(`--node ${options.node} is not the multiaddr of a node: ${err instanceof Error ? err.message : String(err)}`)
      }
      const privateKey = await loadOrCreateKey(options.key ?? defaultClientKeyFile())
      const status = await askStatus(options.node, { privateKey, ...(options.psk !== undefined ? { psk: await readSwarmKey(options.psk) } : {}) }, { signal: AbortSignal.timeout(30_000) })
      if (options.json === true) out.print(JSON.stringify(status, null, 2))
      else for (const line of formatStatus(status, peerIdFromPrivateKey(privateKey).toString())) out.print(line)
    })
}

/** The status as lines for a person; `asker`: this client's peer id, which the node would have to allow. */
export function formatStatus (s: NodeStatus, asker: string): string[] {
  const lines = [
    `node     ${s.peer}`,
    `roles    ${s.roles.join(', ')}${s.site !== undefined ? ` (site ${s.site})` : ''}`,
    `listens  ${s.addrs.join(' ')}`,
    `peers    ${s.peers.connected} connected, ${s.peers.gossip} gossip, ${s.peers.dht} in the DHT`
  ]
  for (const p of s.peers.list ?? []) lines.push(`  ${p.peer} ${p.addr}`)
  const plant = s.plant
  if (plant !== undefined) {
    const states = Object.entries(plant.vms.byState).map(([state, n]) => `${n} ${state}`).join(', ')
    lines.push(`line     ${plant.line}`)
    lines.push(`VMs      ${plant.vms.count}${states !== '' ? ` (${states})` : ''}`)
    for (const vm of plant.vms.list ?? []) lines.push(`  ${vm.vmid}  ${vm.state}  ${vm.line}  ${vm.domain}  ${vm.memoryMB} MB  since ${vm.createdAt}`)
    lines.push(`networks ${plant.networks.count}`)
    for (const n of plant.networks.list ?? []) lines.push(`  ${n.name}  #${n.index}  ${n.domain}`)
    lines.push(`images   ${plant.images.count}, ${plant.images.bytes} bytes`)
    for (const i of plant.images.list) lines.push(`  ${i.id}  ${i.line}  ${i.memoryMB} MB  ${i.actions} actions  ${i.bytes} bytes  ${i.source}`)
  }
  if (s.detail === 'counts' && plant !== undefined) lines.push(`(VMs and networks as counts only: list ${asker} in the node's status.allow to see them by id)`)
  return lines
}
