import { AGENT_PORT_NAME } from '../guest/agent-c.js'

/**
 * Where a clone's NIC sends its frames: QEMU's user-mode network, or a tap device that the host
 * made (and plugged into a bridge) before the clone. Only the backend differs between golden and
 * clones; the device (virtio-net-pci) is part of the golden's device set.
 */
export type NicBackend = { type: 'user' } | { type: 'tap', ifname: string }

/**
 * What QEMU is started with: a clone's backend, or (the warm pool's processes) a port on hub 0
 * with nothing else on it yet, which gets the clone's backend through QMP when it is claimed.
 */
export type NetdevBackend = NicBackend | { type: 'hub' }

/** the hub a pooled process's NIC is on until it is claimed */
export const POOL_HUB = 0

/** What decides a QEMU command line. Golden and clones must agree on every device, or migration fails. */
export interface MachineConfig {
  memoryMB: number
  accel: 'kvm' | 'tcg'
  /** TCG translation cache in MB */
  tbSizeMB: number
  kernel: string
  initrd: string
  append: string
  /**
   * the virtio-net NIC: its MAC (the golden's, which migrates with the device) and its backend;
   * absent for none. `slirpState`: the checkpoint holds a user-mode network's state (section
   * `slirp` 0, the golden's backend), which a clone on another backend must still have somewhere
   * to load, or the migration fails ("Unknown savevm section"): a user-mode network with no peer.
   */
  nic?: { mac: string, backend: NetdevBackend, slirpState?: boolean }
  /** the guest RAM file; absent for a throw-away boot (the accel probe) */
  ram?: { path: string, share: boolean }
  disk?: string
  console: string
  agentSocket: string
  qmpSocket: string
  pidFile: string
  /** a unique word in the command line, so that a pid is recognised as this VM's */
  token: string
  /** wait for `migrate-incoming`, and stay paused after it (`-S`) until `cont` */
  incoming: boolean
}

/** The kernel command line of every vmplant guest; `quiet` keeps the cold boot short under TCG. */
export function kernelAppend (withDisk: boolean): string {
  return ['console=ttyS0', 'quiet', 'panic=-1', withDisk ? 'vmplant.disk=1' : ''].filter((s) => s !== '').join(' ')
}

export function qemuArgs (c: MachineConfig): string[] {
  const args = [
    '-name', `vmplant-${c.token}`,
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-accel', c.accel === 'tcg' ? `tcg,tb-size=${c.tbSizeMB}` : 'kvm',
    '-smp', '1',
    '-m', `${c.memoryMB}M`
  ]
  if (c.ram !== undefined) {
    args.push(
      '-object', `memory-backend-file,id=mem,size=${c.memoryMB}M,mem-path=${opt(c.ram.path)},share=${c.ram.share ? 'on' : 'off'}`,
      '-machine', 'pc,memory-backend=mem'
    )
  } else {
    args.push('-machine', 'pc')
  }
  args.push(
    '-kernel', c.kernel, '-initrd', c.initrd, '-append', c.append,
    '-chardev', `file,id=con,path=${opt(c.console)}`, '-device', 'isa-serial,chardev=con,index=0',
    // the agent's channel: a virtio-serial port the guest finds by name (docs/guest-agent.md)
    '-device', 'virtio-serial-pci,id=vser0,max_ports=2',
    '-chardev', `socket,id=agent,path=${opt(c.agentSocket)},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,nr=1,chardev=agent,name=${AGENT_PORT_NAME}`,
    '-chardev', `socket,id=qmp,path=${opt(c.qmpSocket)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control',
    '-device', 'vmgenid,guid=auto',
    '-no-reboot', '-no-shutdown',
    '-pidfile', c.pidFile
  )
  if (c.disk !== undefined) {
    args.push('-drive', `file=${opt(c.disk)},if=none,id=disk0,format=qcow2`, '-device', 'virtio-blk-pci,drive=disk0')
  }
  if (c.nic !== undefined) {
    // first, so that it is slirp instance 0, the one the checkpoint names; restricted and unplugged
    if (c.nic.slirpState === true && c.nic.backend.type !== 'user') args.push('-netdev', 'user,id=golden-slirp,restrict=on')
    args.push('-netdev', netdevArg(c.nic.backend), '-device', `virtio-net-pci,netdev=net0,id=nic0,mac=${c.nic.mac}`)
  }
  if (c.incoming) args.push('-S', '-incoming', 'defer')
  return args
}

function netdevArg (backend: NetdevBackend): string {
  switch (backend.type) {
    case 'user': return 'user,id=net0'
    case 'hub': return `hubport,id=net0,hubid=${POOL_HUB}`
    // the host made the tap (and its bridge): QEMU runs no script
    case 'tap': return `tap,id=net0,ifname=${opt(backend.ifname)},script=no,downscript=no`
    default: { const never: never = backend; throw new Error(`unknown NIC backend ${JSON.stringify(never)}`) }
  }
}

/** QEMU option values escape a comma by doubling it. */
function opt (value: string): string {
  return value.replace(/,/g, ',,')
}

/** A locally administered unicast MAC in QEMU's range, from 3 random bytes. */
export function macAddress (random: Uint8Array): string {
  return ['52', '54', '00', ...[...random.subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0'))].join(':')
}

/** Quotes a path for the `exec:` migration URI, which QEMU runs through /bin/sh. */
export function shellQuote (value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`
}
