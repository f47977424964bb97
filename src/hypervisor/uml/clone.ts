import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions, CloneOptions } from '../index.js'
import type { GuestAgentClient } from '../guest/agent-client.js'
import { detachVmTap } from '../net/index.js'
import { bootUml, LPJ_FILE } from './boot.js'
import { writeCowFile } from './cow.js'
import type { UmlLineInit } from './init.js'
import { attachNic, nicKernelArgs } from './network.js'
import { removeBoot, vmPaths, writeBoot, writeIdentity, type UmlBoot, type UmlVmIdentity } from './vm-store.js'

/**
 * Makes a clone's folder: a COW file over the golden root file system and, on a domain's network,
 * a tap on its bridge (`identity.nic`); the identity last, so that a folder without one is what an
 * interrupted clone left and a starting line removes. A failed clone leaves nothing.
 */
export async function makeClone (workDir: string, token: string, identity: UmlVmIdentity, options: CloneOptions): Promise<void> {
  const paths = vmPaths(workDir, token)
  try {
    // a folder without an identity is what an earlier clone left half made
    await rm(paths.dir, { recursive: true, force: true })
    await mkdir(paths.dir, { recursive: true })
    await writeCowFile(paths.cow, identity.base, options)
    if (options.network !== undefined) identity.nic = await attachNic(paths.dir, token, options.network, options)
    await writeIdentity(workDir, token, identity, options)
  } catch (err) {
    await detachVmTap(paths.dir)
    await rm(paths.dir, { recursive: true, force: true })
    throw err
  }
}

/**
 * Boots a clone that does not run, recording its process group at once (a plant killed during the
 * boot leaves a VM the next one can find and kill) and its agent's line once it answers; `onAgent`
 * is given the agent as soon as the guest runs. A boot that fails leaves the clone as it was, ready
 * for another try or destroy.
 */
export async function bootClone (init: UmlLineInit, token: string, identity: UmlVmIdentity, onAgent: (agent: GuestAgentClient) => void, options: AbortOptions): Promise<UmlBoot> {
  const paths = vmPaths(init.workDir, token)
  await rm(join(paths.umlDir, identity.umid), { recursive: true, force: true })
  await removeBoot(init.workDir, token)
  try {
    const startedAt = Date.now()
    const booted = await bootUml({
      binary: init.umlBinary,
      umid: identity.umid,
      umlDir: paths.umlDir,
      disk: paths.cow,
      base: identity.base,
      memoryMB: identity.memoryMB,
      consoleLog: paths.console,
      hostname: `vm-${token.slice(0, 8)}`,
      timeoutMs: init.bootTimeoutMs,
      kernelArgs: [...init.kernelArgs, ...nicKernelArgs(identity.nic)],
      lpjFile: join(init.workDir, LPJ_FILE)
    }, async (pid) => {
      await writeBoot(init.workDir, token, { pid, startedAt }, {})
    }, options)
    onAgent(booted.agent)
    const boot: UmlBoot = { pid: booted.pid, pts: booted.pts, startedAt }
    // not abortable: the VM runs now, and the next line must find its agent line
    await writeBoot(init.workDir, token, boot, {})
    return boot
  } catch (err) {
    // bootUml has killed what it started
    await removeBoot(init.workDir, token)
    throw err
  }
}
