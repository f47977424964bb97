import test from 'ava'
import { actionIdentity, canonicalJson, validateSpec, type ActionSpec } from '../../src/planner/index.js'

const hardware = { memoryMB: 256, os: 'linux' }
const action = (a: Record<string, unknown>, others: unknown[] = []): ActionSpec => {
  const spec = validateSpec({ hardware, actions: [...others, a] })
  return spec.actions[spec.actions.length - 1] as ActionSpec
}

test('canonical JSON sorts keys and drops undefined fields', (t) => {
  t.is(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1, y: 2 } }), '{"a":[true,null,"x"],"b":1,"d":{"y":2,"z":1}}')
  t.throws(() => canonicalJson(Number.NaN), { instanceOf: TypeError })
})

test('the identity ignores the id, the predecessors and the error sub-graph', (t) => {
  const base = actionIdentity(action({ id: 'vnc', run: 'install vnc' }))
  t.is(actionIdentity(action({ id: 'vncserver', run: 'install vnc' })), base)
  t.is(actionIdentity(action({ id: 'vnc', run: 'install vnc', after: ['os'] }, [{ id: 'os', run: 'install os' }])), base)
  t.is(actionIdentity(action({ id: 'vnc', run: 'install vnc', onError: { then: 'continue' } })), base)
  t.regex(base, /^[0-9a-f]{64}$/)
})

test('the identity changes with the script, type, host parameters, timeout and exports', (t) => {
  const seen = new Set([
    action({ id: 'a', run: 'install vnc' }),
    action({ id: 'a', run: 'install vnc ' }),
    action({ id: 'a', run: 'install vnc', timeoutMs: 1000 }),
    action({ id: 'a', run: 'install vnc', exports: ['port'] }),
    action({ id: 'a', type: 'host', host: { attach: 'iso', image: 'vnc.iso' } }),
    action({ id: 'a', type: 'host', host: { attach: 'iso', image: 'other.iso' } }),
    action({ id: 'a', type: 'host', host: { attach: 'nic', network: 'vnet0' } })
  ].map(actionIdentity))
  t.is(seen.size, 7)
})

test('the order of exports does not change the identity', (t) => {
  t.is(actionIdentity(action({ id: 'a', run: 'x', exports: ['ip', 'mac'] })), actionIdentity(action({ id: 'a', run: 'x', exports: ['mac', 'ip'] })))
})
