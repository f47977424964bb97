import test from 'ava'
import { loadTargets } from './targets/index.js'
import { SHORT_RUNS, shortPass } from './short-pass.js'

// real libp2p nodes on 127.0.0.1: the edges answer each raw frame, and go on answering
const { targets, close } = await loadTargets(['edges'])
test.after.always(close)

for (const target of targets) {
  test.serial(`${target.name}: the node answers every raw frame with its value or a clear error, and keeps serving`, async (t) => {
    // each input is a round trip over TCP: a third of the in-process targets' inputs
    await shortPass(t, target, Math.ceil(SHORT_RUNS / 3))
  })
}
