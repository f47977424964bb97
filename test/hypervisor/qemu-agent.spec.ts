/**
 * The framed guest agent over the QEMU line's virtio-serial channel (docs/guest-agent.md): bytes
 * as the guest wrote them, stdout and stderr apart, exit codes, timeouts, silent actions, and a
 * reply abandoned half-way that does not disturb the next request.
 */
import test from 'ava'
import type { GoldenImage } from '../../src/hypervisor/index.js'
import { qemuLine, type QemuProductionLine } from '../../src/hypervisor/qemu/index.js'
import { killAll, pidsMentioning } from '../helpers/hypervisors.js'
import { qemuTest, tempDirs } from './qemu-helpers.js'

const qtest = qemuTest()
const dirs = tempDirs('vmplant-agent')
let line: QemuProductionLine
let golden: GoldenImage

/** every byte value once, as printf octal escapes */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const PRINTF_ALL = Array.from({ length: 256 }, (_, i) => `\\${i.toString(8).padStart(3, '0')}`).join('')

test.after.always(async () => {
  await line?.stop({ destroyAll: true }).catch(() => {})
  killAll(pidsMentioning(dirs.work))
  dirs.remove()
})

qtest('a clone of a fresh golden answers its agent over virtio-serial', async (t) => {
  line = qemuLine({ workDir: dirs.work, goldenDir: dirs.golden })
  await line.start()
  golden = await line.prepareGolden({ hardware: { memoryMB: 128, os: 'linux', arch: 'x86_64' }, actions: [] })
  await line.clone(golden, 'agent')
  await line.resume('agent')
  await line.ping('agent')
  // the agent's port is the named virtio one, not a UART
  const port = await line.runAction('agent', { id: 'port', run: 'cat /sys/class/virtio-ports/*/name' })
  t.is(port.stdout, 'org.vmplant.agent.0\n')
})

qtest('1 MB of every byte value comes back byte for byte', async (t) => {
  // 256 bytes doubled 12 times: 1 MiB
  const run = `printf '${PRINTF_ALL}' > /tmp/p && i=0 && while [ $i -lt 12 ]; do cat /tmp/p /tmp/p > /tmp/q && mv /tmp/q /tmp/p; i=$((i+1)); done && cat /tmp/p`
  const result = await line.runBinary('agent', { id: 'bytes', run })
  t.is(result.exitCode, 0, result.stderr.toString())
  t.is(result.stderr.length, 0)
  t.is(result.stdout.length, 1024 * 1024)
  t.true(result.stdout.equals(Buffer.concat(Array.from({ length: 4096 }, () => ALL_BYTES))))
})

qtest('stdout and stderr are kept apart, each in its order', async (t) => {
  const result = await line.runAction('agent', { id: 'apart', run: 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf "no newline" >&2' })
  t.is(result.exitCode, 0)
  t.is(result.stdout, 'out1\nout2\n')
  t.is(result.stderr, 'err1\nerr2\nno newline')
  t.false(result.timedOut)
})

qtest('exit codes come back as the shell gave them, 128 + signal for a killed script', async (t) => {
  for (const code of [0, 1, 42, 255]) {
    const result = await line.runAction('agent', { id: `exit-${code}`, run: `exit ${code}` })
    t.is(result.exitCode, code)
    t.false(result.timedOut)
  }
  const killed = await line.runAction('agent', { id: 'killed', run: 'kill -TERM $$' })
  t.is(killed.exitCode, 128 + 15)
  t.false(killed.timedOut)
})

qtest('an action past its timeout is killed with its process group and reported timed out; the agent goes on', async (t) => {
  const result = await line.runAction('agent', { id: 'slow', run: 'echo started; sleep 600 & sleep 600', timeoutMs: 1000 })
  t.true(result.timedOut)
  t.is(result.exitCode, 137)
  t.is(result.stdout, 'started\n')
  // the background sleep of the same group is gone too
  const left = await line.runAction('agent', { id: 'left', run: 'ps | grep -c "[s]leep 600"; true' })
  t.is(left.stdout, '0\n')
})

qtest('an action that prints nothing has empty output and its exit code', async (t) => {
  const quiet = await line.runAction('agent', { id: 'quiet', run: 'true' })
  t.deepEqual([quiet.exitCode, quiet.stdout, quiet.stderr, quiet.timedOut], [0, '', '', false])
  const failing = await line.runAction('agent', { id: 'quiet-fail', run: 'false' })
  t.deepEqual([failing.exitCode, failing.stdout, failing.stderr], [1, '', ''])
})

qtest('a reply the host gave up on is skipped, and the next request gets its own answer', async (t) => {
  const controller = new AbortController()
  const big = line.runBinary('agent', { id: 'big', run: 'dd if=/dev/zero bs=65536 count=256 2>/dev/null; echo VMPA-lookalike' }, { signal: controller.signal })
  controller.abort(new Error('the host gave up'))
  await t.throwsAsync(big, { message: 'the host gave up' })
  const next = await line.runAction('agent', { id: 'next', run: 'echo mine' })
  t.is(next.stdout, 'mine\n')
})
