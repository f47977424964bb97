import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { ProductionError, type AbortOptions, type CloneOptions, type GoldenImage, type VmInfo } from '../index.js'
import { attachVmTap } from '../net/index.js'
import { macAddress } from './args.js'
import { GOLDEN_FILES, readGoldenMeta } from './golden.js'
import type { QemuLineInit } from './init.js'
import { LiveVm } from './live-vm.js'
import { runIncoming } from './migrate.js'
import { nicFor, plugBackend, type QemuNic } from './network.js'
import { removeVmFolder } from './remove-vm.js'
import { checkNicBackend, DEFAULT_NIC_BACKEND, GUEST_NIC, type NicBackend } from './nic.js'
import { killAndWait } from './process.js'
import { spawnIncoming, type IncomingVm } from './spawn-clone.js'
import { vmPaths, writeIdentity, type VmIdentity } from './vm-store.js'
import type { WarmPool } from './warm-pool.js'

const log = logger('vmplant:plant:qemu')

/** Options of the QEMU line's clone: the port's `network` (a bridge: the line makes the tap), or a NIC backend the caller made. */
export interface QemuCloneOptions extends CloneOptions {
  /** where the clone's NIC sends its frames, when no `network` is given; @default { type: 'user' } */
  nic?: NicBackend
}

const VMID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/** What of the line a clone is made with: its options, its warm pool, and the folders it is filling. */
export interface CloneParts {
  init: QemuLineInit
  pool: WarmPool
  /** tokens of folders being filled: a reconcile meanwhile leaves them alone */
  creating: Set<string>
}

/** A clone made and paused: its VM, and whether a warm pool's process became it. */
export interface MadeClone { vm: LiveVm, pooled: boolean }

/** Refuses what no clone can be before anything is made; returns the NIC backend the caller chose, checked. */
export function checkCloneRequest (golden: GoldenImage, vmid: string, options: QemuCloneOptions): NicBackend | undefined {
  if (options.nic !== undefined && options.network !== undefined) throw new ProductionError('a clone takes a network (a bridge for its tap) or a NIC backend, not both')
  const chosen = options.nic === undefined ? undefined : checkNicBackend(options.nic)
  if (options.network?.tap !== undefined) checkNicBackend({ type: 'tap', ifname: options.network.tap })
  if (golden.line !== 'qemu') throw new ProductionError(`golden ${golden.id} was made by the ${golden.line} line, not by qemu`)
  if (!VMID.test(vmid)) throw new ProductionError(`vmid "${vmid}" must be 1 to 128 letters, digits, "_", "." or "-"`)
  return chosen
}

/**
 * Makes a paused clone of the golden: a warm pool's process if one waits (only its NIC's backend
 * is plugged), else a new QEMU resumed from the golden's state. A clone that fails half way is
 * removed, process and folder.
 */
export async function makeClone (parts: CloneParts, golden: GoldenImage, vmid: string, chosen: NicBackend | undefined, options: QemuCloneOptions): Promise<MadeClone> {
  const { init, pool, creating } = parts
  const started = Date.now()
  const meta = await readGoldenMeta(golden.dir, options)
  if (meta.mac === undefined && (options.nic !== undefined || options.network !== undefined)) throw new ProductionError(`golden ${golden.id} has no NIC (made with nic: false): a clone of it cannot have a NIC backend or a network`)
  const pooled = await pool.take(golden.id)
  const token = pooled?.token ?? randomBytes(6).toString('hex')
  const paths = vmPaths(init.workDir, token)
  const nic = options.network === undefined ? undefined : nicFor(token, options.network)
  const backend: NicBackend = nic !== undefined ? { type: 'tap', ifname: nic.tap } : chosen ?? DEFAULT_NIC_BACKEND
  const identity: VmIdentity = { version: 2, vmid, goldenId: golden.id, createdAt: started }
  if (meta.mac !== undefined) identity.mac = macAddress(randomBytes(3))
  if (nic !== undefined) identity.nic = nic
  creating.add(token)
  let incomingVm: IncomingVm | undefined = pooled
  try {
    if (nic !== undefined) {
      await mkdir(paths.dir, { recursive: true })
      await attachVmTap(paths.dir, nic, options)
    }
    if (pooled === undefined) {
      incomingVm = await spawnIncoming(init, meta, golden.dir, paths, token, backend, options)
      await runIncoming(incomingVm.qmp, join(golden.dir, GOLDEN_FILES.state), { signal: options.signal, timeoutMs: init.cloneTimeoutMs })
    } else if (pooled.nic) {
      // already loaded, translation cache warm, paused: only its NIC's backend is missing
      await plugBackend(pooled.qmp, backend, options)
    }
    if (incomingVm === undefined) throw new ProductionError('no QEMU process for the clone')
    // last: until the identity is there, a restarted line removes the folder as half made
    await writeIdentity(init.workDir, token, identity, options)
  } catch (err) {
    pooled?.agent.close()
    incomingVm?.qmp.close()
    if (incomingVm !== undefined) await killAndWait(incomingVm.pid, token)
    await removeVmFolder(init.workDir, token, incomingVm?.pid, []).catch((cleanup) => { log.error('could not remove the half-made clone %s: %e', token, cleanup) })
    throw err
  } finally {
    creating.delete(token)
  }
  log('cloned %s from golden %s in %d ms%s%s', vmid, golden.id, Date.now() - started, pooled !== undefined ? ' (warm pool)' : '', describeNic(nic))
  return { vm: new LiveVm(token, identity, paths, incomingVm.pid, incomingVm.qmp, pooled?.agent), pooled: pooled !== undefined }
}

function describeNic (nic: QemuNic | undefined): string {
  return nic !== undefined ? ` on ${nic.bridge} (tap ${nic.tap})` : ''
}

/**
 * Lets a paused clone run: the guest agent connected first, then `cont`, then the guest's NIC
 * given the clone's own MAC. A clone already running is only inspected.
 */
export async function resumeClone (vm: LiveVm, vmid: string, cloneTimeoutMs: number, options: AbortOptions): Promise<VmInfo> {
  const qmp = await vm.qmp(options)
  const status = await qmp.execute<{ status: string }>('query-status', undefined, options)
  if (status.status === 'running') return await vm.info(options)
  // connected before cont, so that the guest never sees the agent's host go away and come back
  const agent = await vm.agent(options)
  await qmp.execute('cont', undefined, options)
  // the first step in the guest, before any action: the NIC leaves the golden's MAC for its own
  if (vm.identity.mac !== undefined) await agent.setMac(GUEST_NIC, vm.identity.mac, { signal: options.signal, timeoutMs: cloneTimeoutMs })
  const info: VmInfo = { vmid, state: 'running', goldenId: vm.identity.goldenId, pid: vm.pid, handle: vm.handle() }
  if (vm.identity.mac !== undefined) info.mac = vm.identity.mac
  return info
}
