import type { Command } from 'commander'
import { loadNodeConfig } from '../../daemon/config.js'
import { VmplantNode } from '../../daemon/vmplant-node.js'
import { stopOnSignals } from '../../daemon/lifecycle.js'
import { systemdNotifier } from '../../daemon/systemd-notify.js'
import type { Output } from '../output.js'
import { UsageError } from '../errors.js'

export function registerNodeCommand (program: Command, out: Output): void {
  program.command('node')
    .description('run one vmplant node (shop, broker and/or plant) from a YAML config, until SIGTERM')
    .option('--config <file>', 'the node config (see config/*.yaml and the README for every field)')
    .option('--check-config <file>', 'validate a node config, print what it sets up, and exit (0: valid; 2: an error that names the file and field)')
    .action(async (options: { config?: string, checkConfig?: string }) => {
      if (options.checkConfig !== undefined) {
        const checked = await loadNodeConfig(options.checkConfig)
        out.print(`${options.checkConfig}: valid; roles ${checked.roles.join(', ')}; listens on ${checked.listen.join(', ')}; data in ${checked.dataDir}${checked.roles.includes('plant') ? `; plant line ${checked.plant.driver.kind}, cost model ${checked.plant.cost.model}` : ''}${checked.site !== undefined ? `; site ${checked.site}` : ''}`)
        return
      }
      if (options.config === undefined) throw new UsageError('vmplant node needs --config FILE (or --check-config FILE to only validate one)')
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
      const systemd = systemdNotifier({ log: (line) => { out.error(`vmplant: ${line}`) } })
      stopOnSignals(async () => {
        await systemd.stopping('stopping: VMs and streams are being closed')
        await node.stop()
      }, (line) => { out.error(line) }, { ms: config.stopTimeoutMs, abandons: () => node.stopAbandons() })
      // node.start() returned: it listens and has dialled its bootstrap peers
      await systemd.ready(`${config.roles.join('+')} ${node.peerId} on ${node.multiaddrs.join(' ')}`)
      out.print(JSON.stringify({ event: 'ready', peer: node.peerId, roles: config.roles, addrs: node.multiaddrs }))
      await new Promise<never>(() => {})
    })
}
