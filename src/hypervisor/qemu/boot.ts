import { connectFramedAgent, GuestAgentTimeoutError, type FramedAgentClient } from '../guest/index.js'
import type { AbortOptions } from '../index.js'
import { qemuArgs, type MachineConfig } from './args.js'
import { QemuStartError } from './errors.js'
import { isAlive } from '../proc.js'
import { killAndWait, spawnDetached, tailFile } from './process.js'
import { QmpClient } from './qmp.js'

export interface Booted { pid: number, qmp: QmpClient, agent: FramedAgentClient }

/**
 * Boots a guest from its kernel and waits until its agent answers. On failure the process is
 * killed; the caller removes the folder.
 */
export async function coldBoot (binary: string, machine: MachineConfig, logPath: string, options: AbortOptions & { timeoutMs: number }): Promise<Booted> {
  options.signal?.throwIfAborted()
  const deadline = Date.now() + options.timeoutMs
  const pid = await spawnDetached(binary, qemuArgs(machine), logPath, options)
  let qmp: QmpClient | undefined
  let agent: FramedAgentClient | undefined
  try {
    qmp = await QmpClient.connect(machine.qmpSocket, { signal: options.signal, timeoutMs: Math.min(10_000, options.timeoutMs) })
    agent = await connectFramedAgent(machine.agentSocket, options)
    for (;;) {
      if (!isAlive(pid)) throw new QemuStartError('QEMU exited during boot', tailFile(logPath))
      try {
        // the agent may not have opened its port yet: ask again until the deadline
        await agent.ping({ signal: options.signal, timeoutMs: Math.max(1, Math.min(1000, deadline - Date.now())) })
        return { pid, qmp, agent }
      } catch (err) {
        if (!(err instanceof GuestAgentTimeoutError) || Date.now() >= deadline) throw err
      }
    }
  } catch (err) {
    qmp?.close()
    agent?.close()
    await killAndWait(pid, machine.token)
    throw err
  }
}
