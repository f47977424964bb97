/**
 * PID 1 of the UML guest, run by busybox `sh`. The agent itself is the guest image's
 * (AGENT_SCRIPT in ../guest/scripts.ts), here on the first UML serial line, `/dev/ttyS0`,
 * which the line connects to a host pts (`ssl0=pts`).
 */
export const UML_AGENT_DEVICE = '/dev/ttyS0'

export const UML_INIT_SCRIPT = `#!/bin/busybox sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# the kernel mounts devtmpfs itself when built with DEVTMPFS_MOUNT, as Debian's UML kernel is
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
for arg in $(cat /proc/cmdline); do
  case "$arg" in vmplant.host=*) hostname "\${arg#vmplant.host=}" ;; esac
done
ip link set lo up 2>/dev/null
# linux.uml makes the host pts when the line is first opened and drops it when the last opener
# closes it: held open here, the pts the host recorded stays valid across agent restarts
exec 9<> ${UML_AGENT_DEVICE}
echo "vmplant: guest ready"
while :; do
  /sbin/vmplant-agent ${UML_AGENT_DEVICE}
  sleep 1
done
`
