import type { ExecutionContext } from 'ava'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import { buildTopology, type NsProcess, type Topology, type TopologyOptions } from './netns.js'
import { killMentioning } from './hypervisors.js'
import { tempDir } from './temp.js'

type TempDir = Awaited<ReturnType<typeof tempDir>>

export interface NetnsFixture {
  /** the test's folder */
  dir: TempDir
  topo: Topology
  /** the processes the test starts in the namespaces (`spawnInNamespace`'s owner) */
  running: Set<NsProcess>
}

/**
 * A test's folder and namespaces. At its end: each process SIGTERMed first (a plant destroys its
 * VMs, bridges and taps), the namespaces removed (whatever is left dies with them), any hypervisor
 * process still naming the folder killed, the QEMU golden tmpfs folders of `qemuPlants` (plant
 * data folders under the test's folder) and the folder removed.
 */
export async function netnsFixture (t: ExecutionContext, prefix: string, topology: TopologyOptions, options: { qemuPlants?: string[] } = {}): Promise<NetnsFixture> {
  const dir = await tempDir(prefix)
  const topo = await buildTopology(topology).catch(async (err) => { await dir.remove(); throw err })
  const running = new Set<NsProcess>()
  t.teardown(async () => {
    for (const proc of running) await proc.kill('SIGTERM')
    await topo.remove()
    await killMentioning(dir.path)
    for (const plant of options.qemuPlants ?? []) await rm(defaultGoldenShmDir(join(dir.path, plant, 'line')), { recursive: true, force: true })
    await dir.remove()
  })
  return { dir, topo, running }
}
