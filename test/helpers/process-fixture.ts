import type { ExecutionContext } from 'ava'
import { VmplantClient, type ClientInit } from '../../src/cli/client.js'
import type { NodeProcess } from './processes.js'
import { tempDir } from './temp.js'

export interface ProcessFixture {
  dir: Awaited<ReturnType<typeof tempDir>>
  /** the node processes the test starts, killed by pid at its end */
  procs: NodeProcess[]
  /** a started client, stopped at the test's end */
  startClient(init: ClientInit): Promise<VmplantClient>
}

/** A test's folder, its node processes and its clients: at its end the clients stop, the processes are killed and the folder goes. */
export async function processFixture (t: ExecutionContext, prefix?: string): Promise<ProcessFixture> {
  const dir = await tempDir(prefix)
  const procs: NodeProcess[] = []
  const clients: VmplantClient[] = []
  t.teardown(async () => {
    for (const client of clients) await client.stop()
    await Promise.all(procs.map(async (p) => p.kill()))
    await dir.remove()
  })
  return {
    dir,
    procs,
    startClient: async (init) => {
      const client = new VmplantClient(init)
      clients.push(client)
      await client.start()
      return client
    }
  }
}
