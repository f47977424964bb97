import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startNodeProcess, freePort, eventually } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { watchdogIntervalMs } from '../../src/daemon/systemd-notify.js'

const tools = ['socat'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
// CI installs socat (scripts/setup.sh); a missing one fails there
const notifyTest = tools.length === 0 || process.env.CI !== undefined ? test : test.skip
if (tools.length > 0 && process.env.CI === undefined) console.log(`skipped: the systemd notify test needs ${tools.join(' and ')}`)

notifyTest('under a NOTIFY_SOCKET, a node says READY=1 once it listens, WATCHDOG=1 while it lives, and STOPPING=1 on SIGTERM', async (t) => {
  const dir = await tempDir('vmplant-notify-')
  t.teardown(dir.remove)
  // systemd's side: a unix datagram socket whose messages are written out in the order they came
  const socket = join(dir.path, 'notify.sock')
  const received = join(dir.path, 'received')
  const systemd = spawn('socat', ['-u', `UNIX-RECV:${socket}`, `CREATE:${received}`], { stdio: 'ignore' })
  t.teardown(() => { if (systemd.exitCode === null) systemd.kill('SIGKILL') })
  await eventually(async () => { await access(socket) }, 5000, 20)

  const port = await freePort()
  const config = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\n`)
  const node = await startNodeProcess(config, 30_000, { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '300000' })
  t.teardown(async () => { await node.kill() })
  const said = async (): Promise<string> => await readFile(received, 'utf8').catch(() => '')
  // READY comes before the node prints its ready line; then a watchdog ping every 150 ms
  await eventually(async () => { if ((await said()).split('WATCHDOG=1').length < 3) throw new Error('fewer than 2 watchdog pings') }, 10_000, 50)
  await node.kill('SIGTERM')
  await eventually(async () => { if (!(await said()).includes('STOPPING=1')) throw new Error('no STOPPING=1') }, 10_000, 50)

  const text = await said()
  t.regex(text, /READY=1/)
  t.regex(text, new RegExp(`MAINPID=${node.pid}`), 'each message names the node, so NotifyAccess=all attributes it')
  t.regex(text, new RegExp(`STATUS=shop ${node.ready.peer}`))
  const ready = text.indexOf('READY=1')
  t.true(ready < text.indexOf('WATCHDOG=1'), 'READY=1 comes first')
  t.true(text.lastIndexOf('WATCHDOG=1') < text.indexOf('STOPPING=1'), 'STOPPING=1 comes last, and the watchdog stops')
  t.is(text.split('READY=1').length, 2, 'READY=1 once')
})

test('the watchdog runs at half WATCHDOG_USEC, and only for the process systemd named', (t) => {
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }), 15_000)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }), 15_000)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }), undefined)
  t.is(watchdogIntervalMs({}), undefined)
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }), undefined)
})

test('a stop that outlives stopTimeoutMs exits with status 1 and says which step it abandoned', async (t) => {
  const dir = await tempDir('vmplant-stop-')
  t.teardown(dir.remove)
  const port = await freePort()
  const config = await dir.write('shop.yaml', `roles: [shop]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: shop\nstopTimeoutMs: 300\n`)
  const node = await startNodeProcess(config, 30_000, { VMPLANT_TEST_STOP_HANG: 'the production line' })
  t.teardown(async () => { await node.kill() })
  process.kill(node.pid, 'SIGTERM')
  const [code] = await once(node.child, 'close')
  t.is(code, 1)
  t.regex(node.stderr(), /the stop did not finish within 300 ms; exiting, abandoned: stopping the production line; not reached: the domain bridges, the store/)
})
