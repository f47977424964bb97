import type { Command } from 'commander'
import { loadNodeConfig } from '../../daemon/config.js'
import { VmplantNode } from '../../daemon/vmplant-node.js'
import { notifySystemdReady, stopOnSignals } from '../../daemon/lifecycle.js'
import type { Output } from '../output.js'

export function registerNodeCommand (program: Command, out: Output): void {
  program.command('node')
    .description('run one vmplant node (shop, broker and/or plant) from a YAML config, until SIGTERM')
    .requiredOption('--config <file>', 'the node config (see config/*.yaml and the README for every field)')
    .action(async (options: { config: string }) => {
      const config = await loadNodeConfig(options.config)
      const node = new VmplantNode(config, {
        name: config.roles.join('+'),
        onFatal: (error) => {
          out.error(`vmplant: ${error.message}; stopping the node`)
          node.stop().finally(() => process.exit(1))
        }
      })
      await node.start()
      if (config.roles.includes('plant')) {
        // said once, without DEBUG: an operator must know that VMs here get no domain network
        const mode = (await node.plantStatus()).networkMode ?? ''
        if (mode.startsWith('none: ')) out.error(`vmplant: domain networks are off: ${mode.slice('none: '.length)}; this plant offers networkless VMs only`)
      }
      stopOnSignals(async () => { await node.stop() }, (line) => { out.error(line) })
      out.print(JSON.stringify({ event: 'ready', peer: node.peerId, roles: config.roles, addrs: node.multiaddrs }))
      await notifySystemdReady()
      await new Promise<never>(() => {})
    })
}
