import test from 'ava'
import { loadTargets } from './targets/index.js'
import { shortPass } from './short-pass.js'

// the YAML parser warns of every unresolved tag a mutation makes up: the refusals are what count
process.removeAllListeners('warning')
const { targets, close } = await loadTargets(['documents'])
test.after.always(close)

for (const target of targets) {
  test.serial(`${target.name}: every input is accepted or refused with a clear error, in time (corpus and generated)`, async (t) => {
    await shortPass(t, target)
  })
}
