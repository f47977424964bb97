import test from 'ava'
import type { CreateProgress } from '../../src/interface/index.js'
import { libp2pWorld, simWorld, type World } from './worlds.js'
import { CREATE_PROGRESS_STEPS } from '../helpers/fixtures-shared.js'

const SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }, { id: 'world', run: 'echo world', after: ['hello'] }] }

/** a create's steps as the client saw them: who (the shop, the plant that made the VM, another), the step and its phase */
async function createSteps (world: World, domain: string): Promise<string[]> {
  const steps: CreateProgress[] = []
  const { classad } = await world.create(SPEC, domain, (event) => { steps.push(event) })
  await world.destroy(classad.vmid)
  return steps.map((s) => `${s.plant === undefined ? 'shop' : s.plant === classad.plant ? 'winner' : 'other'} ${s.step} ${s.phase}`)
}

test('a simulated create shows the client the same progress frames, in the same order, as one over libp2p', async (t) => {
  t.timeout(120_000)
  const overLibp2p = await createSteps(await libp2pWorld(t), 'progress-a')
  const simulated = await createSteps(await simWorld(t), 'progress-a')
  t.deepEqual(overLibp2p, CREATE_PROGRESS_STEPS)
  t.deepEqual(simulated, overLibp2p)
})
