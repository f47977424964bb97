/** What decides a QEMU command line. Golden and clones must agree on every device, or migration fails. */
export interface MachineConfig {
  memoryMB: number
  accel: 'kvm' | 'tcg'
  /** TCG translation cache in MB */
  tbSizeMB: number
  kernel: string
  initrd: string
  append: string
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
    '-chardev', `socket,id=agent,path=${opt(c.agentSocket)},server=on,wait=off`, '-device', 'isa-serial,chardev=agent,index=1',
    '-chardev', `socket,id=qmp,path=${opt(c.qmpSocket)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control',
    '-device', 'vmgenid,guid=auto',
    '-no-reboot', '-no-shutdown',
    '-pidfile', c.pidFile
  )
  if (c.disk !== undefined) {
    args.push('-drive', `file=${opt(c.disk)},if=none,id=disk0,format=qcow2`, '-device', 'virtio-blk-pci,drive=disk0')
  }
  if (c.incoming) args.push('-S', '-incoming', 'defer')
  return args
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
