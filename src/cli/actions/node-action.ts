import { loadNodeConfig, type NodeConfig } from '../../daemon/config.js'
import { VmplantNode } from '../../daemon/vmplant-node.js'
import { stopOnSignals } from '../../daemon/lifecycle.js'
import { systemdNotifier } from '../../daemon/systemd-notify.js'
import { defaultLogFormat, enableDefaultDebug, failureLine, formatLine, installNodeLog, type LogFormat } from '../../daemon/log.js'
import type { Output } from '../output.js'
import { UsageError } from '../errors.js'

export async function runNode (options: { config?: string, checkConfig?: string, logFormat?: string }, out: Output): Promise<void> {
  if (options.checkConfig !== undefined) {
    const checked = await loadNodeConfig(options.checkConfig)
    out.print(`${options.checkConfig}: valid; roles ${checked.roles.join(', ')}; listens on ${checked.listen.join(', ')}; data in ${checked.dataDir}${checked.roles.includes('plant') ? `; plant line ${checked.plant.driver.kind}, cost model ${checked.plant.cost.model}` : ''}${checked.site !== undefined ? `; site ${checked.site}` : ''}`)
    return
  }
  // until the config is read, --log-format alone chooses how a failure to start is told
  let format: LogFormat | undefined = options.logFormat === 'json' || options.logFormat === 'text' ? options.logFormat : undefined
  // the node once made, for its peer id in the line of a failed start
  const made: { node?: VmplantNode } = {}
  try {
    if (options.config === undefined) throw new UsageError('vmplant node needs --config FILE (or --check-config FILE to only validate one)')
    if (options.logFormat !== undefined && format === undefined) throw new UsageError(`--log-format ${options.logFormat}: must be json or text`)
    const config = await loadNodeConfig(options.config)
    format ??= config.log?.format
    await startNode(config, format, out, made)
  } catch (err) {
    if ((format ?? defaultLogFormat()) === 'json') {
      // under systemd a failure to start is a journal line like the rest of the node's
      const peer = made.node?.libp2p?.peerId.toString()
      out.error(formatLine(failureLine(err, { ...(peer !== undefined ? { peer } : {}) }), 'json'))
      markLogged(err)
    }
    throw err
  }
  await new Promise<never>(() => {})
}

/** Tells the command line that the error's line is written (main prints the others as `vmplant: ...`). */
function markLogged (err: unknown): void {
  if (err !== null && typeof err === 'object') Object.defineProperty(err, 'logged', { value: true, enumerable: false })
}

/** Starts the node (kept in `made` from when it exists); resolves once it listens and has said so (the ready line on stdout). */
async function startNode (config: NodeConfig, format: LogFormat | undefined, out: Output, made: { node?: VmplantNode }): Promise<void> {
  const node = new VmplantNode(config, {
    name: config.roles.join('+'),
    onFatal: (error) => {
      log.error(`${error.message}; stopping the node`)
      node.stop().finally(() => process.exit(1))
    }
  })
  made.node = node
  // from here every line on stderr is the node's log: JSON lines with its peer id unless on a terminal
  enableDefaultDebug()
  const log = installNodeLog({ ...(format !== undefined ? { format } : {}), peer: () => node.libp2p?.peerId.toString() })
  await node.start()
  if (config.roles.includes('plant')) {
    // said once, without DEBUG: an operator must know that VMs here get no domain network
    const mode = (await node.plantStatus()).networkMode ?? ''
    if (mode.startsWith('none: ')) log.warn(`domain networks are off: ${mode.slice('none: '.length)}; this plant offers networkless VMs only`)
  }
  const systemd = systemdNotifier({ log: (line) => { log.warn(line) } })
  stopOnSignals(async () => {
    await systemd.stopping('stopping: VMs and streams are being closed')
    await node.stop()
  }, (line) => { log.info(line) }, { ms: config.stopTimeoutMs, abandons: () => node.stopAbandons() })
  // node.start() returned: it listens and has dialled its bootstrap peers
  await systemd.ready(`${config.roles.join('+')} ${node.peerId} on ${node.multiaddrs.join(' ')}`)
  log.info(`ready: ${config.roles.join('+')} on ${node.multiaddrs.join(' ')}`, { roles: config.roles, addrs: node.multiaddrs })
  out.print(JSON.stringify({ event: 'ready', peer: node.peerId, roles: config.roles, addrs: node.multiaddrs }))
}
