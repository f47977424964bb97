import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { AbortOptions } from '../../interface/index.js'
import { writeFileDurably } from '../../fs/index.js'
import { createTap, deleteTap } from './tap.js'

/** A VM's NIC on a domain's bridge: the tap a line made for it. */
export interface VmTap { bridge: string, tap: string }

/**
 * written into the VM's folder before the tap is made, so that whoever removes the folder
 * (destroy, a failed clone, a starting line removing a clone that never completed) deletes the tap
 */
const NIC_FILE = 'nic.json'

/** Records the tap in the VM's folder, then makes it on the bridge; a failure leaves no tap. */
export async function attachVmTap (dir: string, nic: VmTap, options: AbortOptions = {}): Promise<void> {
  // whole or not at all: a half-written file would hide the tap from whoever removes the folder
  await writeFileDurably(join(dir, NIC_FILE), JSON.stringify(nic), options)
  await createTap(nic.tap, nic.bridge, options)
}

/** Deletes the tap the VM's folder names, if any; call it once no process of the VM holds the tap. */
export async function detachVmTap (dir: string): Promise<void> {
  let nic: Partial<VmTap> | undefined
  try {
    nic = JSON.parse(await readFile(join(dir, NIC_FILE), 'utf8'))
  } catch {
    return
  }
  if (typeof nic?.tap === 'string') await deleteTap(nic.tap)
  await rm(join(dir, NIC_FILE), { force: true })
}
