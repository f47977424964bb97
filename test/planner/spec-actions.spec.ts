import test from 'ava'
import { validateSpec, isHostAction, InvalidSpecError, SPEC_LIMITS } from '../../src/planner/index.js'

const hardware = { memoryMB: 256, os: 'linux' }

/** The message of the InvalidSpecError that `validateSpec` throws for these actions. */
function refusal (t: import('ava').ExecutionContext, actions: unknown[], extra: Record<string, unknown> = {}): string {
  const err = t.throws(() => validateSpec({ hardware, actions, ...extra }), { instanceOf: InvalidSpecError })
  return err?.message ?? ''
}

test('issue-4 fields are accepted with their defaults', (t) => {
  const spec = validateSpec({
    hardware,
    concurrent: true,
    actions: [
      { id: 'iso', type: 'host', host: { attach: 'iso', image: 'tools.iso' } },
      { id: 'nic', type: 'host', host: { attach: 'nic', network: 'vnet0', mac: '52:54:00:12:34:56' }, exports: ['mac'] },
      { id: 'ip', run: 'dhclient; echo ip=$(hostname -I)', after: ['nic'], timeoutMs: 30_000, exports: ['ip'] },
      { id: 'user', run: 'useradd alice', after: ['ip'], onError: { actions: [{ id: 'log', run: 'dmesg | tail' }, { id: 'clean', run: 'userdel alice', after: ['log'] }], then: 'continue' } }
    ]
  })
  t.true(spec.concurrent)
  const [iso, nic, ip, user] = spec.actions
  t.true(iso !== undefined && isHostAction(iso))
  t.is(iso?.run, '')
  t.deepEqual(nic?.exports, ['mac'])
  t.like(ip, { type: 'guest', timeoutMs: 30_000 })
  t.is(user?.onError?.then, 'continue')
  t.deepEqual(user?.onError?.actions.map((a) => a.id), ['log', 'clean'])
  t.false(validateSpec({ hardware, actions: [] }).concurrent)
})

test('a validated spec sent as JSON validates again to the same spec', (t) => {
  const spec = validateSpec({
    hardware,
    actions: [
      { id: 'iso', type: 'host', host: { attach: 'iso', image: 'tools.iso' } },
      { id: 'a', run: 'true', after: ['iso'], timeoutMs: 5, exports: ['x'], onError: { then: 'continue', actions: [{ id: 'h', type: 'host', host: { attach: 'nic', network: 'n' } }] } }
    ]
  })
  t.deepEqual(validateSpec(JSON.parse(JSON.stringify(spec))), spec)
})

test('an error sub-graph that references a missing action is refused naming the edge', (t) => {
  const message = refusal(t, [
    { id: 'a', run: 'true' },
    { id: 'b', run: 'true', after: ['a'] },
    { id: 'c', run: 'false', onError: { actions: [{ id: 'fix', run: 'true', after: ['nope'] }], then: 'abort' } }
  ])
  t.regex(message, /^actions\[2\]\.onError\.actions\[0\]\.after\[0\]: "nope" is not the id of any action of this error sub-graph/)
})

test('an error sub-graph cannot run after actions of the main DAG', (t) => {
  const message = refusal(t, [{ id: 'a', run: 'true' }, { id: 'b', run: 'false', onError: { actions: [{ id: 'fix', run: 'true', after: ['a'] }], then: 'continue' } }])
  t.regex(message, /^actions\[1\]\.onError\.actions\[0\]\.after\[0\]:/)
})

test('an error sub-graph that forms a cycle is refused', (t) => {
  const message = refusal(t, [{
    id: 'a',
    run: 'false',
    onError: { then: 'abort', actions: [{ id: 'x', run: 'true', after: ['y'] }, { id: 'y', run: 'true', after: ['x'] }] }
  }])
  t.regex(message, /^actions\[0\]\.onError\.actions\[\d\]\.after: actions form a cycle: /)
})

test('duplicate ids inside an error sub-graph are refused', (t) => {
  const message = refusal(t, [{ id: 'a', run: 'false', onError: { then: 'abort', actions: [{ id: 'x', run: 'true' }, { id: 'x', run: 'true' }] } }])
  t.regex(message, /^actions\[0\]\.onError\.actions\[1\]\.id: duplicate action id "x"/)
})

test('error sub-graphs have no error sub-graphs of their own and need a then', (t) => {
  t.regex(refusal(t, [{ id: 'a', run: 'false', onError: { then: 'abort', actions: [{ id: 'x', run: 'true', onError: { then: 'abort' } }] } }]), /^actions\[0\]\.onError\.actions\[0\]: unknown field "onError"/)
  t.regex(refusal(t, [{ id: 'a', run: 'false', onError: { actions: [] } }]), /^actions\[0\]\.onError\.then:/)
  t.regex(refusal(t, [{ id: 'a', run: 'false', onError: { then: 'retry' } }]), /^actions\[0\]\.onError\.then:/)
})

test('guest actions need a script and host actions their parameters, never both', (t) => {
  t.regex(refusal(t, [{ id: 'a' }]), /^actions\[0\]\.run: a guest action needs a script/)
  t.regex(refusal(t, [{ id: 'a', run: '' }]), /^actions\[0\]\.run: a guest action needs a script/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', host: { attach: 'iso', image: 'x.iso' } }]), /^actions\[0\]\.host: only host actions/)
  t.regex(refusal(t, [{ id: 'a', type: 'host' }]), /^actions\[0\]\.host: a host action needs its parameters/)
  t.regex(refusal(t, [{ id: 'a', type: 'host', run: 'true', host: { attach: 'iso', image: 'x.iso' } }]), /^actions\[0\]\.run: a host action runs no script/)
  t.regex(refusal(t, [{ id: 'a', type: 'host', host: { attach: 'usb', image: 'x' } }]), /^actions\[0\]\.host\.attach:/)
  t.regex(refusal(t, [{ id: 'a', type: 'host', host: { attach: 'iso', image: 'x.iso', extra: 1 } }]), /^actions\[0\]\.host: unknown field "extra"/)
  t.regex(refusal(t, [{ id: 'a', type: 'vm', run: 'true' }]), /^actions\[0\]\.type:/)
})

test('timeouts and exports are checked', (t) => {
  t.regex(refusal(t, [{ id: 'a', run: 'true', timeoutMs: 0 }]), /^actions\[0\]\.timeoutMs: must be at least 1/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', timeoutMs: SPEC_LIMITS.maxTimeoutMs + 1 }]), /^actions\[0\]\.timeoutMs: must be at most/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', exports: ['ip address'] }]), /^actions\[0\]\.exports\[0\]: must be a name/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', exports: ['ip', 'ip'] }]), /^actions\[0\]\.exports\[1\]: "ip" is listed twice/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', exports: ['ip'] }, { id: 'b', run: 'true', exports: ['ip'] }]), /^actions\[1\]\.exports\[0\]: "ip" is already exported by actions\[0\]/)
})

test('the action limit counts the actions of error sub-graphs', (t) => {
  const half = SPEC_LIMITS.maxActions / 2
  const sub = Array.from({ length: half + 1 }, (_, i) => ({ id: `fix${i}`, run: 'true' }))
  const actions = Array.from({ length: half }, (_, i) => ({ id: `a${i}`, run: 'true', ...(i === 0 ? { onError: { then: 'abort', actions: sub } } : {}) }))
  t.regex(refusal(t, actions), /^actions: at most 256 actions allowed, counting error sub-graphs \(got 257\)/)
  t.regex(refusal(t, [{ id: 'a', run: 'x'.repeat(SPEC_LIMITS.maxScriptBytes + 1) }]), /^actions\[0\]\.run: must be at most/)
})

test('specs from before issue 4 still validate the same way', (t) => {
  const spec = validateSpec({ hardware, actions: [{ id: 'a', run: 'true' }, { id: 'b', run: 'true', after: ['a'] }] })
  t.like(spec.actions[1], { id: 'b', type: 'guest', run: 'true', after: ['a'], exports: [] })
  t.regex(refusal(t, [{ id: 'a', run: 'true', after: ['b'] }]), /^actions\[0\]\.after\[0\]: "b" is not the id of any action$/)
  t.regex(refusal(t, [{ id: 'a', run: 'true', bogus: 1 }]), /^actions\[0\]: unknown field "bogus"/)
})
