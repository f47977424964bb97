import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { exec } from '../guest/exec.js'
import type { AbortOptions } from '../index.js'
import { qemuArgs } from './args.js'
import { cloneKernel } from './clone-kernel.js'
import { QemuStartError } from './errors.js'
import { GOLDEN_FILES, type GoldenMeta } from './golden.js'
import type { NetdevBackend } from './args.js'
import type { QemuLineInit } from './init.js'
import { prepareIncoming } from './migrate.js'
import { isAlive } from '../proc.js'
import { killAndWait, spawnDetached, tailFile } from './process.js'
import { QmpClient } from './qmp.js'
import type { VmPaths } from './vm-store.js'

export interface IncomingVm { pid: number, qmp: QmpClient }

/**
 * The part of a clone that does not depend on the vmid: the overlay on the golden disk and a
 * QEMU process that maps the golden RAM privately and waits for the device state, its NIC on
 * the backend `nic`. The folder
 * is the caller's: on failure the process is already killed, the caller removes the folder.
 */
export async function spawnIncoming (init: QemuLineInit, meta: GoldenMeta, goldenDir: string, paths: VmPaths, token: string, nic: NetdevBackend, options: AbortOptions & { niceness?: number } = {}): Promise<IncomingVm> {
  options.signal?.throwIfAborted()
  await mkdir(paths.dir, { recursive: true })
  await exec(init.qemuImg, ['create', '-q', '-f', 'qcow2', '-b', join(goldenDir, GOLDEN_FILES.disk), '-F', 'qcow2', paths.overlay], options)
  const args = qemuArgs({
    memoryMB: meta.memoryMB,
    accel: meta.accel,
    tbSizeMB: meta.tbSizeMB,
    // a clone never boots: the kernel's header is all QEMU needs to rebuild the golden's machine
    kernel: await cloneKernel(goldenDir, options),
    initrd: join(goldenDir, GOLDEN_FILES.initrd),
    append: meta.append,
    // the golden's device and MAC (its state migrates); only the backend is the clone's
    // (goldens are built on the user-mode backend, so their checkpoint holds its state)
    nic: meta.mac === undefined ? undefined : { mac: meta.mac, backend: nic, slirpState: true },
    // private: the clone's writes are copied on write, the golden file never changes
    ram: { path: join(goldenDir, GOLDEN_FILES.memory), share: false },
    disk: paths.overlay,
    console: paths.console,
    agentSocket: paths.agent,
    qmpSocket: paths.qmp,
    pidFile: paths.pidFile,
    token,
    incoming: true
  })
  // through nice(1), so that every thread QEMU starts has the niceness from the first instruction
  const pid = options.niceness === undefined
    ? await spawnDetached(init.qemuBinary, args, paths.log, options)
    : await spawnDetached('nice', ['-n', String(options.niceness), init.qemuBinary, ...args], paths.log, options)
  try {
    const qmp = await QmpClient.connect(paths.qmp, { signal: options.signal, timeoutMs: init.cloneTimeoutMs })
    await prepareIncoming(qmp, options)
    return { pid, qmp }
  } catch (err) {
    const exited = !isAlive(pid)
    await killAndWait(pid, token)
    throw exited ? new QemuStartError('QEMU exited while starting a clone', tailFile(paths.log), { cause: err }) : err
  }
}
