import test from 'ava'
import { chooseImage, explainPlan, indexWarehouse, topologicalOrder } from '../../src/planner/index.js'
import { makeImage, makeSpec, ids, type ActionShort } from './helpers.js'

// Figure 3 of the paper: the In-VIGO virtual workspace.
const WORKSPACE: ActionShort[] = [
  ['os', 'install redhat-7.3'],
  ['vnc', 'install vnc-server', ['os']],
  ['webfm', 'install web-file-manager', ['os']],
  ['ip', 'set-ip 10.0.0.7', ['vnc', 'webfm']],
  ['user', 'add-user alice secret', ['vnc', 'webfm']],
  ['mount', 'mount-dvfs /home/alice', ['user']]
]

test('figure 3: the workspace clones the checkpointed OS, VNC server and file manager and runs the rest', (t) => {
  const request = makeSpec(WORKSPACE)
  // the warehouse was made from a spec that named the same actions differently
  const published = makeSpec([
    ['redhat', 'install redhat-7.3'],
    ['vncserver', 'install vnc-server', ['redhat']],
    ['filemanager', 'install web-file-manager', ['redhat']]
  ]).actions
  const index = indexWarehouse([
    makeImage('bare', published, []),
    makeImage('os-only', published, ['redhat']),
    makeImage('os-vnc', published, ['redhat', 'vncserver']),
    makeImage('workspace', published, ['redhat', 'vncserver', 'filemanager']),
    makeImage('workspace-64MB', published, ['redhat', 'vncserver', 'filemanager'], { memoryMB: 64 })
  ])
  const plan = chooseImage(request, index)
  t.is(plan?.image.id, 'workspace')
  t.deepEqual(ids(plan?.cloned ?? []), ['os', 'vnc', 'webfm'])
  t.deepEqual(ids(plan?.remaining ?? []), ['ip', 'user', 'mount'])
})

test('an image that applied A then B matches a request where A and B are independent', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b']])
  const plan = chooseImage(spec, indexWarehouse([makeImage('ab', spec.actions, ['A', 'B'])]))
  t.is(plan?.image.id, 'ab')
  t.deepEqual(ids(plan?.cloned ?? []), ['A', 'B'])
  t.deepEqual(plan?.remaining, [])
})

test('an image that applied B then A does not match a request with A before B', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b', ['A']]])
  const index = indexWarehouse([makeImage('ba', spec.actions, ['B', 'A'])])
  t.is(chooseImage(spec, index), undefined)
  const [verdict] = explainPlan(spec, index).verdicts
  t.like(verdict, { admissible: false, test: 'partial-order' })
})

test('an image that applied only A is chosen over one that applied B then A', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b', ['A']], ['C', 'do c', ['B']]])
  const index = indexWarehouse([makeImage('ba', spec.actions, ['B', 'A']), makeImage('a', spec.actions, ['A'])])
  const { plan, verdicts } = explainPlan(spec, index)
  t.is(plan?.image.id, 'a')
  t.like(verdicts.find((v) => v.image.id === 'ba'), { admissible: false, test: 'partial-order' })
})

test('an image that applied an action not in the request never matches', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b']])
  const other = makeSpec([['A', 'do a'], ['X', 'do x']]).actions
  const index = indexWarehouse([makeImage('ax', other, ['A', 'X']), makeImage('xa', other, ['X', 'A'])])
  t.is(chooseImage(spec, index), undefined)
  t.true(explainPlan(spec, index).verdicts.every((v) => !v.admissible && v.test === 'subset'))
})

test('an image missing a predecessor of an applied action fails the prefix test', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b', ['A']]])
  const index = indexWarehouse([makeImage('b', spec.actions, ['B'])])
  t.is(chooseImage(spec, index), undefined)
})

test('hardware must match: memory, arch and OS equal, disk at least the requested', (t) => {
  const spec = makeSpec([['A', 'do a']], { diskMB: 2000 })
  const cases: Array<[string, Parameters<typeof makeImage>[3], boolean]> = [
    ['same', {}, true],
    ['more-disk', { diskMB: 8000 }, true],
    ['less-disk', { diskMB: 1000 }, false],
    ['more-memory', { memoryMB: 512 }, false],
    ['other-arch', { arch: 'aarch64' }, false],
    ['other-os', { os: 'freebsd' }, false]
  ]
  for (const [id, hardware, admissible] of cases) {
    const plan = chooseImage(spec, indexWarehouse([makeImage(id, spec.actions, ['A'], hardware)]))
    t.is(plan !== undefined, admissible, id)
  }
})

test('the image that saves the most actions wins, then the cheaper clone, then the smaller id', (t) => {
  const spec = makeSpec([['A', 'do a'], ['B', 'do b', ['A']], ['C', 'do c']])
  const pick = (...images: Array<ReturnType<typeof makeImage>>): string | undefined => chooseImage(spec, indexWarehouse(images))?.image.id
  t.is(pick(makeImage('one', spec.actions, ['A'], {}, 1), makeImage('two', spec.actions, ['A', 'B'], {}, 99)), 'two')
  t.is(pick(makeImage('dear', spec.actions, ['A', 'C'], {}, 99), makeImage('cheap', spec.actions, ['C', 'A'], {}, 5)), 'cheap')
  t.is(pick(makeImage('y', spec.actions, ['C'], {}, 5), makeImage('x', spec.actions, ['A'], {}, 5)), 'x')
})

test('an image with nothing applied serves any request of its hardware and every action runs', (t) => {
  const spec = makeSpec([['B', 'do b', ['A']], ['A', 'do a']])
  const plan = chooseImage(spec, indexWarehouse([makeImage('bare', spec.actions, [])]))
  t.deepEqual(plan?.cloned, [])
  t.deepEqual(ids(plan?.remaining ?? []), ['A', 'B'])
})

test('no image of the requested hardware means no plan', (t) => {
  const spec = makeSpec([['A', 'do a']])
  t.is(chooseImage(spec, indexWarehouse([])), undefined)
  t.is(chooseImage(spec, indexWarehouse([makeImage('big', spec.actions, [], { memoryMB: 1024 })])), undefined)
})

test('the remaining actions run in a topological order of the request', (t) => {
  const spec = makeSpec([['D', 'do d', ['B', 'C']], ['C', 'do c', ['A']], ['B', 'do b', ['A']], ['A', 'do a'], ['E', 'do e']])
  const plan = chooseImage(spec, indexWarehouse([makeImage('e', spec.actions, ['E'])]))
  const order = ids(plan?.remaining ?? [])
  t.deepEqual([...order].sort(), ['A', 'B', 'C', 'D'])
  for (const action of spec.actions) {
    for (const dep of action.after) if (order.includes(action.id)) t.true(order.indexOf(dep) < order.indexOf(action.id), `${dep} before ${action.id}`)
  }
  t.deepEqual(order, ids(topologicalOrder(spec.actions)).filter((id) => id !== 'E'))
})

test('actions with the same definition that the DAG orders map to their occurrences in order', (t) => {
  const spec = makeSpec([['update1', 'apt-get update'], ['repo', 'add-repo x', ['update1']], ['update2', 'apt-get update', ['repo']], ['pkg', 'install x', ['update2']]])
  const index = indexWarehouse([makeImage('twice', spec.actions, ['update1', 'repo', 'update2'])])
  const plan = chooseImage(spec, index)
  t.deepEqual(ids(plan?.cloned ?? []), ['update1', 'repo', 'update2'])
  t.deepEqual(ids(plan?.remaining ?? []), ['pkg'])
  // the second update is update2, whose predecessor repo was not applied
  const early = indexWarehouse([makeImage('early', spec.actions, ['update1', 'update1'])])
  t.is(chooseImage(spec, early), undefined)
  t.like(explainPlan(spec, early).verdicts[0], { test: 'prefix' })
  // three updates where the request has two
  const thrice = indexWarehouse([makeImage('thrice', spec.actions, ['update1', 'repo', 'update2', 'update1'])])
  t.like(explainPlan(spec, thrice).verdicts[0], { test: 'subset' })
})

test('an image that applied an action the request has twice, unordered, is refused as ambiguous', (t) => {
  const spec = makeSpec([['a', 'prep a'], ['b', 'prep b'], ['ua', 'apt-get update', ['a']], ['ub', 'apt-get update', ['b']]])
  const index = indexWarehouse([makeImage('amb', spec.actions, ['a', 'ua']), makeImage('fine', spec.actions, ['b', 'a'])])
  const { plan, verdicts } = explainPlan(spec, index)
  t.is(plan?.image.id, 'fine')
  t.like(verdicts.find((v) => v.image.id === 'amb'), { admissible: false, test: 'ambiguous' })
})
