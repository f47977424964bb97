import test from 'ava'
import { compileRequest, explainImage, explainPlan, formatExplanation, indexWarehouse } from '../../src/planner/index.js'
import { makeImage, makeSpec } from './helpers.js'

const spec = makeSpec([['os', 'install os'], ['vnc', 'install vnc', ['os']], ['ip', 'set ip', ['vnc']]], { diskMB: 2048 })
const other = makeSpec([['x', 'install x']]).actions
const images = [
  makeImage('best', spec.actions, ['os', 'vnc']),
  makeImage('small', spec.actions, ['os']),
  makeImage('tiny-disk', spec.actions, ['os'], { diskMB: 1024 }),
  makeImage('more-memory', spec.actions, ['os'], { memoryMB: 1024 }),
  makeImage('foreign', [...spec.actions, ...other], ['os', 'x']),
  makeImage('no-os', spec.actions, ['vnc']),
  makeImage('backwards', spec.actions, ['vnc', 'os'])
]

test('explain gives each image its verdict and the first test it failed', (t) => {
  const { plan, verdicts } = explainPlan(spec, indexWarehouse(images))
  t.is(plan?.image.id, 'best')
  t.deepEqual(verdicts.map((v) => [v.image.id, v.admissible ? 'ok' : v.test]).slice(0, 2), [['best', 'ok'], ['small', 'ok']])
  const reason = new Map(verdicts.map((v) => [v.image.id, v.admissible ? 'ok' : `${v.test}: ${v.reason}`]))
  t.is(reason.get('tiny-disk'), 'hardware: disk is 1024 MB, the request wants at least 2048 MB')
  t.is(reason.get('more-memory'), 'hardware: memory is 1024 MB, the request wants 256 MB')
  t.regex(reason.get('foreign') ?? '', /^subset: applied action #2 \(\w{12}\) is not in the request$/)
  t.is(reason.get('no-os'), 'prefix: "vnc" was applied but "os", which comes before it, was not')
  t.is(reason.get('backwards'), 'partial-order: "vnc" was applied before "os", but the request runs "os" first')
})

test('explain and the matcher agree on which images are admissible', (t) => {
  const index = indexWarehouse(images)
  const request = compileRequest(spec)
  for (const image of index.images) {
    const alone = explainPlan(request, indexWarehouse([image])).plan
    t.is(alone !== undefined, explainImage(request, image).admissible, image.id)
  }
})

test('the plan prints the image, the cloned actions, the actions to run and every rejection', (t) => {
  const lines = formatExplanation(explainPlan(spec, indexWarehouse(images)))
  t.deepEqual(lines.slice(0, 3), ['image   best', 'cloned  os, vnc', 'run     ip'])
  t.true(lines.includes('  small  admissible, saves 1'))
  t.true(lines.some((l) => l.startsWith('  backwards  fails partial-order: ')))
  t.is(lines.length, 3 + images.length - 1)
  t.deepEqual(formatExplanation(explainPlan(spec, indexWarehouse([]))), ['no golden image can serve this request'])
})
