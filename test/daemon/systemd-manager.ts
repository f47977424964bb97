import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { eventually } from '../helpers/processes.js'

/**
 * A real systemd service manager of the test's own: `systemd --user` in a mount namespace of its
 * own, where a tmpfs on /run/systemd with an empty `system/` tells it the host was booted with
 * systemd (it checks only that folder). It runs as root, so it applies the same sandboxing a
 * system manager would (mount namespaces, seccomp, capability bounds, device policy). Everything
 * it has lives in one folder under /run (not /tmp: the unit's PrivateTmp would hide it).
 */
export interface UserManager {
  dir: string
  /** the environment `systemctl --user` needs to reach it */
  env: NodeJS.ProcessEnv
  /** where unit files and drop-ins go */
  unitDir: string
  systemctl(...args: string[]): { code: number, stdout: string, stderr: string }
  /** `systemctl --user show UNIT -p ...` as a map */
  show(unit: string, ...properties: string[]): Record<string, string>
  /** what the manager said (its log goes to its stderr here, there is no journal) */
  output(): string
  /** stops the manager (and so its units) and removes its folder */
  stop(): Promise<void>
}

/** Why this machine cannot run a private systemd manager, or undefined if it can. */
export function systemdMachineReason (): string | undefined {
  if (process.platform !== 'linux') return `systemd needs Linux, this is ${process.platform}`
  if (process.getuid?.() !== 0) return 'a private systemd manager needs root here: it runs in a mount namespace of its own (unshare --mount)'
  for (const tool of ['systemd', 'systemctl', 'unshare']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian packages systemd and util-linux)`
  }
  return undefined
}

/**
 * In the manager's mount namespace: /run/systemd says "booted with systemd", and holds the
 * inaccessible nodes a system manager makes at boot, which ProtectHome=, ProtectKernelLogs= and
 * the like mount over what they hide.
 */
const SETUP = [
  'set -e',
  'mount -t tmpfs vmplant-test /run/systemd',
  'mkdir /run/systemd/system /run/systemd/inaccessible',
  'cd /run/systemd/inaccessible',
  'mkdir -m 0 dir; touch reg; chmod 0 reg; mkfifo -m 0 fifo; mknod -m 0 chr c 0 0; mknod -m 0 blk b 0 0',
  'cd /',
  'exec systemd --user --log-target=console'
].join('\n')

export async function startUserManager (): Promise<UserManager> {
  await mkdir('/run', { recursive: true })
  const dir = await mkdtemp('/run/vmplant-systemd-test-')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data')
  }
  delete env.NOTIFY_SOCKET
  delete env.DBUS_SESSION_BUS_ADDRESS
  for (const name of ['runtime', 'config', 'state', 'cache', 'data']) await mkdir(join(dir, name), { recursive: true, mode: 0o700 })
  const unitDir = join(dir, 'config', 'systemd', 'user')
  await mkdir(unitDir, { recursive: true })
  let output = ''
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', SETUP], { env: { ...env, SYSTEMD_LOG_TARGET: 'console' }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit')
  exited.catch(() => {})
  const systemctl = (...args: string[]): { code: number, stdout: string, stderr: string } => {
    const run = spawnSync('systemctl', ['--user', '--no-pager', ...args], { env, encoding: 'utf8', timeout: 60_000 })
    return { code: run.status ?? -1, stdout: run.stdout ?? '', stderr: run.stderr ?? '' }
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: the manager stops its units, then exits
      process.kill(child.pid as number, 'SIGTERM')
      const deadline = setTimeout(() => { if (child.exitCode === null) process.kill(child.pid as number, 'SIGKILL') }, 30_000)
      await exited
      clearTimeout(deadline)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await eventually(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`systemd --user exited (${child.exitCode ?? child.signalCode}): ${output.slice(-2000)}`)
      // not is-system-running: run out here, it finds no /run/systemd/system and says 'offline'
      const state = systemctl('show', '--value', '-p', 'SystemState').stdout.trim()
      if (state !== 'running' && state !== 'degraded') throw new Error(`systemd --user is ${state === '' ? 'not reachable yet' : state}: ${output.slice(-2000)}`)
    }, 20_000, 100)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    dir,
    env,
    unitDir,
    systemctl,
    show: (unit, ...properties) => {
      const shown = systemctl('show', unit, ...properties.flatMap((p) => ['-p', p])).stdout
      return Object.fromEntries(shown.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    },
    output: () => output,
    stop
  }
}
