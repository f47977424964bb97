import test from 'ava'
import { spawnSync } from 'node:child_process'
import { access, readFile, writeFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { registerStatusCommand } from '../../src/cli/commands/status-command.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { VmplantClient } from '../../src/cli/client.js'
import { defaultGoldenShmDir } from '../../src/daemon/create-line.js'
import { eventually, freePort, processAlive, startLocalShop, VMPLANT_BIN } from '../helpers/processes.js'
import { lineMissing } from '../helpers/hypervisors.js'
import { startUserManager, systemdMachineReason, type UserManager } from './systemd-manager.js'

const UNIT_FILE = fileURLToPath(new URL('../../../config/vmplant-node@.service', import.meta.url))
/** the checkout this test runs from */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '')
/** the capabilities the unit may name, by number (linux/capability.h) */
const CAPABILITIES: Record<string, number> = { CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21 }

/** CapabilityBoundingSet= of the shipped unit as a bit mask */
async function unitCapabilities (): Promise<bigint> {
  const line = (await readFile(UNIT_FILE, 'utf8')).split('\n').find((l) => l.startsWith('CapabilityBoundingSet='))
  if (line === undefined) throw new Error('the unit sets no CapabilityBoundingSet=')
  return line.slice('CapabilityBoundingSet='.length).trim().split(/\s+/).reduce((mask, name) => {
    const bit = CAPABILITIES[name]
    if (bit === undefined) throw new Error(`add ${name} to CAPABILITIES`)
    return mask | (1n << BigInt(bit))
  }, 0n)
}

// the machine decides, at run time: a private systemd manager needs root, systemd and unshare
let reason = systemdMachineReason()
if (reason === undefined) {
  // and it must come up: the kernel may refuse it its mount namespace or cgroups
  try {
    await (await startUserManager()).stop()
  } catch (err: any) {
    reason = `systemd --user does not run on this machine: ${String(err?.message).slice(0, 500)}`
  }
}
if (reason !== undefined) console.log(`skipped: the test under a real systemd: ${reason}`)
// under CI only the machine's stated reasons skip; a manager that fails there is a failure
// one at a time: each runs a service manager, and the line tests boot guests
const underSystemd = reason === undefined || (process.env.CI !== undefined && systemdMachineReason() === undefined) ? test.serial : test.skip

/** The shipped unit, as is, with a drop-in that points it at this checkout and the test's config. */
async function installUnit (manager: UserManager, config: string, out: string): Promise<void> {
  await writeFile(join(manager.unitDir, 'vmplant-node@.service'), await readFile(UNIT_FILE, 'utf8'))
  const dropIn = join(manager.unitDir, 'vmplant-node@test.service.d')
  await mkdir(dropIn, { recursive: true })
  const node = `${process.execPath} ${VMPLANT_BIN} node`
  const underHome = /^\/(root|home|run\/user)\//.test(VMPLANT_BIN) || /^\/(root|home|run\/user)\//.test(process.execPath)
  const underTmp = /^\/(var\/)?tmp\//.test(VMPLANT_BIN) || /^\/(var\/)?tmp\//.test(process.execPath)
  await writeFile(join(dropIn, 'test.conf'), [
    '[Service]',
    'ExecStartPre=',
    `ExecStartPre=${node} --check-config ${config}`,
    'ExecStart=',
    `ExecStart=${node} --config ${config}`,
    `StandardOutput=append:${join(out, 'stdout')}`,
    `StandardError=append:${join(out, 'stderr')}`,
    // the config's dataDir is the test's, outside StateDirectory: what an operator does with a drop-in
    `ReadWritePaths=${join(manager.dir, 'node')}`,
    // A per-user manager can give these three only through a user namespace (systemd.exec(5),
    // "implicitly enables PrivateUsers="); here the service then cannot see the manager's notify
    // socket, and READY=1 never arrives. A system manager needs no such namespace:
    // `systemd-analyze security` on the shipped unit counts them.
    'ProtectControlGroups=no',
    'ProtectKernelTunables=no',
    'ProtectProc=default',
    // pings every 2 s instead of 15, so that the test sees them arrive through the sandbox
    'WatchdogSec=4',
    // a checkout under a home folder would be hidden by ProtectHome=yes
    ...(underHome ? ['ProtectHome=read-only'] : []),
    // and one under /tmp (a CI clone) by PrivateTmp=yes: an installed vmplant lives elsewhere
    ...(underTmp ? [`BindReadOnlyPaths=${PACKAGE_ROOT}`] : []),
    ''
  ].join('\n'))
  const reload = manager.systemctl('daemon-reload')
  if (reload.code !== 0) throw new Error(`daemon-reload failed: ${reload.stderr}`)
}

function capabilityBits (status: string, field: string): bigint {
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`))
  if (line === undefined) throw new Error(`no ${field} in /proc/<pid>/status`)
  return BigInt(`0x${line.slice(field.length + 1).trim()}`)
}

underSystemd('the shipped unit runs a plant under a real systemd: ready once it listens, sandboxed as written, JSON logs, a graceful stop', async (t) => {
  t.timeout(120_000)
  const manager = await startUserManager()
  t.teardown(manager.stop)
  const out = join(manager.dir, 'out')
  await mkdir(out)
  await mkdir(join(manager.dir, 'node'))
  const port = await freePort()
  const config = join(manager.dir, 'plant.yaml')
  await writeFile(config, `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\ndataDir: ${join(manager.dir, 'node')}\nplant:\n  driver: { kind: sim }\n`)
  await installUnit(manager, config, out)
  const verify = spawnSync('systemd-analyze', ['--user', 'verify', join(manager.unitDir, 'vmplant-node@test.service')], { env: manager.env, encoding: 'utf8' })
  t.is(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`)

  // Type=notify: start returns once the node said READY=1, i.e. after it listens
  const started = manager.systemctl('start', 'vmplant-node@test.service')
  t.is(started.code, 0, `start failed: ${started.stderr}\n${manager.systemctl('status', 'vmplant-node@test.service').stdout}\n${await readFile(join(out, 'stderr'), 'utf8').catch(() => '')}`)
  const shown = manager.show('vmplant-node@test.service', 'ActiveState', 'SubState', 'MainPID', 'StatusText', 'NRestarts')
  t.is(shown.ActiveState, 'active')
  t.is(shown.SubState, 'running')
  t.is(shown.NRestarts, '0')
  const pid = Number(shown.MainPID)
  t.true(pid > 0)
  const ready = JSON.parse((await readFile(join(out, 'stdout'), 'utf8')).split('\n').find((l) => l.includes('"ready"')) as string) as { peer: string, addrs: string[] }
  t.is(shown.StatusText, `plant ${ready.peer} on ${ready.addrs.join(' ')}`, 'the STATUS= the node sent with READY=1')

  // WATCHDOG=1 reaches systemd: each one moves the unit's watchdog timestamp
  const firstPing = manager.show('vmplant-node@test.service', 'WatchdogTimestampMonotonic').WatchdogTimestampMonotonic
  await eventually(async () => {
    const now = manager.show('vmplant-node@test.service', 'WatchdogTimestampMonotonic').WatchdogTimestampMonotonic
    if (now === firstPing) throw new Error(`no watchdog ping since ${String(firstPing)}`)
  }, 15_000, 250)

  // the sandbox is the unit's: no new privileges, a seccomp filter, its capabilities alone
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  t.regex(status, /^NoNewPrivs:\s+1$/m)
  t.regex(status, /^Seccomp:\s+2$/m)
  t.is(capabilityBits(status, 'CapBnd'), await unitCapabilities())
  t.true((capabilityBits(status, 'CapBnd') & (1n << BigInt(CAPABILITIES.CAP_DAC_OVERRIDE as number))) === 0n, 'root without CAP_DAC_OVERRIDE')
  // mountinfo: field 5 is the mount point, field 6 its options
  const mounts = new Map((await readFile(`/proc/${pid}/mountinfo`, 'utf8')).split('\n').filter((l) => l !== '').map((l) => { const f = l.split(' '); return [f[4] as string, (f[5] as string).split(',')] }))
  t.true(mounts.get('/')?.includes('ro'), 'ProtectSystem=strict: the root file system is read-only for the node')
  t.true(mounts.get(join(manager.dir, 'node'))?.includes('rw'), 'ReadWritePaths=: its dataDir is not')
  t.true(mounts.get('/root')?.includes('ro'), 'ProtectHome=yes: /root is an inaccessible node')
  await access(join(manager.dir, 'node', 'node.key'))

  // the node's log under systemd: stderr is no terminal, so JSON lines with its peer id
  const logs = (await readFile(join(out, 'stderr'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { peer?: string, ns: string, msg: string })
  t.true(logs.some((l) => l.peer === ready.peer && l.ns === 'vmplant:plant' && l.msg.startsWith('started ')), JSON.stringify(logs))

  // the operator asks it, from outside the sandbox
  const lines: string[] = []
  const program = new Command('vmplant').exitOverride()
  registerStatusCommand(program, { print: (l) => lines.push(l), error: (l) => lines.push(l) })
  await program.parseAsync(['status', '--node', ready.addrs[0] as string, '--key', join(manager.dir, 'operator.key')], { from: 'user' })
  t.regex(lines.join('\n'), /roles +plant\n/)
  t.regex(lines.join('\n'), /line +sim\n/)

  // stop: SIGTERM, STOPPING=1, a graceful stop within TimeoutStopSec
  const stopped = manager.systemctl('stop', 'vmplant-node@test.service')
  t.is(stopped.code, 0, stopped.stderr)
  const after = manager.show('vmplant-node@test.service', 'ActiveState', 'Result', 'ExecMainStatus')
  t.is(after.ActiveState, 'inactive')
  t.is(after.Result, 'success')
  t.is(after.ExecMainStatus, '0')
  await eventually(async () => { if (processAlive(pid)) throw new Error(`the node ${pid} still runs`) }, 10_000, 50)
  t.regex(await readFile(join(out, 'stderr'), 'utf8'), /SIGTERM: stopping/)
})

// The production lines under the same unit: their hypervisors, bridges, taps and the guest image
// build (apt-get download into the cache) inside the sandbox. Under CI a missing line fails.
for (const kind of ['qemu', 'uml'] as const) {
  const missing = lineMissing(kind)
  if (reason === undefined && missing !== undefined && process.env.CI === undefined) console.log(`skipped: the ${kind} line under a real systemd: ${missing}`)
  const lineTest = underSystemd === test.serial && (missing === undefined || process.env.CI !== undefined) ? test.serial : test.skip
  lineTest(`the shipped unit's sandbox lets a ${kind} plant make a VM with a domain network, run its action and destroy it`, async (t) => {
    t.timeout(540_000)
    const manager = await startUserManager()
    const data = join(manager.dir, 'node')
    t.teardown(async () => {
      await manager.stop()
      // the QEMU line's golden RAM outlives its plant, on tmpfs
      await rm(defaultGoldenShmDir(join(data, 'line')), { recursive: true, force: true })
    })
    const out = join(manager.dir, 'out')
    await mkdir(out)
    await mkdir(data)
    const { shop, shopAddr } = await startLocalShop(manager.dir, 3000)
    t.teardown(async () => { await shop.kill() })
    const port = await freePort()
    const config = join(manager.dir, 'plant.yaml')
    await writeFile(config, `roles: [plant]\nlisten: [/ip4/127.0.0.1/tcp/${port}]\nbootstrap: [${shopAddr}]\ndataDir: ${data}\nplant:\n  memoryMB: 2048\n  driver: { kind: ${kind} }\n`)
    await installUnit(manager, config, out)
    const started = manager.systemctl('start', 'vmplant-node@test.service')
    t.is(started.code, 0, started.stderr)
    const client = new VmplantClient({ shop: shopAddr, privateKey: await generateKeyPair('Ed25519') })
    await client.start()
    t.teardown(async () => { await client.stop() })
    const spec = { hardware: { memoryMB: 256, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }], network: { address: '10.77.0.5/24' } }
    // the first create waits for the shop to see the plant, and builds the guest image and golden
    const made = await eventually(async () => await client.create(spec, 'sandboxed'), 420_000, 1000).catch(async (err) => {
      throw new Error(`${String(err?.message)}\nnode log:\n${(await readFile(join(out, 'stderr'), 'utf8')).split('\n').slice(-20).join('\n')}`)
    })
    t.is(made.classad.state, 'running')
    t.is(made.classad.line, kind)
    t.is(made.classad.network.kind, 'bridge', 'CAP_NET_ADMIN: a real bridge for the domain')
    t.is(made.classad.nic?.address, '10.77.0.5/24')
    t.is(made.classad.outputs.hello?.stdout, 'hello\n')
    await client.destroy(made.classad.vmid)
    const stopping = Date.now()
    const stopped = manager.systemctl('stop', 'vmplant-node@test.service')
    t.is(stopped.code, 0, `stop: ${stopped.stderr} after ${Date.now() - stopping} ms\n${manager.systemctl('status', 'vmplant-node@test.service').stdout}\nnode log:\n${(await readFile(join(out, 'stderr'), 'utf8')).split('\n').slice(-15).join('\n')}`)
    t.is(manager.show('vmplant-node@test.service', 'Result').Result, 'success')
  })
}
