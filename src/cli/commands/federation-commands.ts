import type { Command } from 'commander'
import type { Output } from '../output.js'

export function registerFederationCommands (program: Command, out: Output): void {
  const federation = program.command('federation')
    .description('a closed federation: members share a swarm key (libp2p pnet) and may list the peers they accept (`federation.allow`)')

  federation.command('key')
    .description("make a new swarm key (pnet's format, mode 0600); give it to every member (`federation.psk` in a node's config) and client (`--psk`)")
    .requiredOption('--out <file>', 'where to write the key; an existing file is never overwritten')
    .action(async (options: { out: string }) => {
      const { writeSwarmKey } = await import('../../net/federation.js')
      await writeSwarmKey(options.out)
      out.print(`wrote a swarm key to ${options.out}`)
    })
}
