import type { Command } from 'commander'
import { defaultClientKeyFile } from '../identity.js'
import type { Output } from '../output.js'
import type { ProxyOptions } from '../actions/vnet-action.js'
import { originOf, ProfileOption } from './profile-options.js'

export function registerVnetCommands (program: Command, out: Output): void {
  const vnet = program.command('vnet').description("VNET-style tunnels between a domain's networks on the plants and the client's LAN")

  vnet.command('proxy')
    .description("join the domain's network on every plant that hosts its VMs to a LAN bridge (or a tap) here, until SIGTERM")
    .addOption(new ProfileOption('--shop <multiaddr>', 'the shop to ask which plants host the domain, e.g. /ip4/10.0.0.1/tcp/4001/p2p/12D3Koo...', 'shop', true))
    .addOption(new ProfileOption('--domain <name>', 'the domain whose networks to join', 'domain', true))
    .option('--bridge <name>', "the client's LAN bridge: one tap per plant is made on it (and removed at exit)")
    .option('--tap <name>', 'a tap device for all plants instead of a bridge (made if missing)')
    .addOption(new ProfileOption('--key <file>', `the client's identity key; default: ${defaultClientKeyFile()}`, 'key'))
    .option('--credential <file>', "the domain credential (default: the one in the client's domain folder)")
    .addOption(new ProfileOption('--psk <file>', "a closed federation's swarm key (`vmplant federation key`), needed to reach its shop and plants", 'psk'))
    .option('--poll-ms <ms>', 'how often to ask the shop for new plants', '5000')
    .option('--mtu <bytes>', "the taps' MTU: the LAN's", '1500')
    .action(async (options: ProxyOptions, command: Command) => {
      // libp2p, the tunnel and iproute2 load only now
      const { runProxy } = await import('../actions/vnet-action.js')
      await runProxy({ ...options, shopFrom: originOf(command, 'shop') }, out)
    })
}
