import test from 'ava'
import { loadTargets } from './targets/index.js'
import { shortPass } from './short-pass.js'

const { targets, close } = await loadTargets(['wire'])
test.after.always(close)

for (const target of targets) {
  test.serial(`${target.name}: every input is accepted or refused with a clear error, in time (corpus and generated)`, async (t) => {
    await shortPass(t, target)
  })
}
