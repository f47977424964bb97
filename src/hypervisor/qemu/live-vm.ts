import { connectFramedAgent, type FramedAgentClient } from '../guest/index.js'
import type { AbortOptions, VmHandle, VmInfo, VmState } from '../index.js'
import { isAlive, readPidFile } from '../proc.js'
import { readRssKB } from './process.js'
import { QmpClient } from './qmp.js'
import type { VmIdentity, VmPaths } from './vm-store.js'

/** QMP run states, as the line reports them. */
const STATE_OF_STATUS: Record<string, VmState> = {
  running: 'running',
  paused: 'paused',
  suspended: 'paused',
  inmigrate: 'paused',
  prelaunch: 'paused',
  postmigrate: 'paused',
  'finish-migrate': 'paused',
  'save-vm': 'paused',
  'restore-vm': 'paused',
  debug: 'paused',
  watchdog: 'paused',
  colo: 'paused',
  shutdown: 'stopped',
  'internal-error': 'crashed',
  'io-error': 'crashed',
  'guest-panicked': 'crashed'
}

/**
 * A VM the line knows: its folder's identity and, opened on first use, its QMP and agent
 * connections. QEMU serves one client per socket, so a line keeps one connection of each and
 * shares it.
 */
export class LiveVm {
  private qmpClient: QmpClient | undefined
  private agentClient: FramedAgentClient | undefined
  private connecting: Promise<QmpClient> | undefined
  constructor (readonly token: string, readonly identity: VmIdentity, readonly paths: VmPaths, private readonly knownPid?: number, qmp?: QmpClient, agent?: FramedAgentClient) {
    this.qmpClient = qmp
    this.agentClient = agent
  }

  get vmid (): string { return this.identity.vmid }

  /** what the plant keeps to find the VM again: the folder's token and the process */
  handle (): VmHandle {
    return { line: 'qemu', token: this.token, pid: this.pid ?? null }
  }

  get pid (): number | undefined {
    return this.knownPid ?? readPidFile(this.paths.pidFile)
  }

  alive (): boolean {
    const pid = this.pid
    return pid !== undefined && isAlive(pid, this.token)
  }

  async qmp (options: AbortOptions & { timeoutMs?: number } = {}): Promise<QmpClient> {
    if (this.qmpClient !== undefined && !this.qmpClient.closed) return this.qmpClient
    this.connecting ??= QmpClient.connect(this.paths.qmp, { signal: options.signal, timeoutMs: options.timeoutMs ?? 5_000 })
      .finally(() => { this.connecting = undefined })
    this.qmpClient = await this.connecting
    return this.qmpClient
  }

  async agent (options: AbortOptions = {}): Promise<FramedAgentClient> {
    if (this.agentClient !== undefined && !this.agentClient.isClosed) return this.agentClient
    this.agentClient = await connectFramedAgent(this.paths.agent, options)
    return this.agentClient
  }

  /** Live state: the process first (gone means crashed), then QMP's run state. */
  async state (options: AbortOptions = {}): Promise<VmState> {
    options.signal?.throwIfAborted()
    if (!this.alive()) return 'crashed'
    try {
      const qmp = await this.qmp({ signal: options.signal, timeoutMs: 2_000 })
      const status = await qmp.execute<{ status: string }>('query-status', undefined, options)
      return STATE_OF_STATUS[status.status] ?? 'paused'
    } catch {
      options.signal?.throwIfAborted()
      // the process runs but its monitor does not answer: as good as crashed to the plant
      return 'crashed'
    }
  }

  async info (options: AbortOptions = {}): Promise<VmInfo> {
    const state = await this.state(options)
    const pid = this.pid
    const info: VmInfo = { vmid: this.vmid, state, goldenId: this.identity.goldenId, handle: this.handle() }
    if (this.identity.mac !== undefined) info.mac = this.identity.mac
    if (pid !== undefined && state !== 'crashed') {
      info.pid = pid
      const rss = readRssKB(pid)
      if (rss !== undefined) info.rssKB = rss
    }
    return info
  }

  /** Closes the connections; the VM keeps running. */
  detach (): void {
    this.qmpClient?.close()
    this.agentClient?.close()
    this.qmpClient = undefined
    this.agentClient = undefined
  }
}
