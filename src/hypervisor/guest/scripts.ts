import { AGENT_PORT_NAME } from './agent-c.js'

/**
 * The two shell scripts of the guest image, run by busybox `sh`. Kept as strings so that the
 * compiled package carries them without a copy step. The wire protocol is in docs/guest-agent.md.
 */

/** Version of the line protocol of the shell agent (the UML line's); the agent announces it with `HELLO <version>`. */
export const AGENT_PROTOCOL_VERSION = 1

/** PID 1 of the QEMU guest image: mounts, loads the listed modules, formats and mounts the disk, keeps the agent (agent-c.ts) alive. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /data /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
chmod 1777 /tmp
mkdir -p /home
[ -e /etc/passwd ] || echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd
[ -e /etc/group ] || echo 'root:x:0:' > /etc/group
while read -r m; do insmod "/lib/modules/$m.ko"; done < /etc/modules
hostname vmplant
ip link set lo up 2>/dev/null
if grep -q vmplant.disk=1 /proc/cmdline; then
  i=0
  while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do usleep 100000; i=$((i + 1)); done
  if ! mount -t ext2 /dev/vda /data 2>/dev/null; then
    mke2fs -q /dev/vda && mount -t ext2 /dev/vda /data
  fi
fi
echo "vmplant: guest ready"
while :; do
  /sbin/vmplant-agent ${AGENT_PORT_NAME}
  sleep 1
done
`

/**
 * The shell guest agent of protocol 1, which the UML line runs on its serial line. One request at a time over a raw serial line; requests are lines,
 * a script of announced length follows RUN, results carry byte counts.
 */
export const AGENT_SCRIPT = `#!/bin/sh
# vmplant guest agent, protocol ${AGENT_PROTOCOL_VERSION} (docs/guest-agent.md)
port=\${1:-/dev/ttyS1}
work=/run/vmplant-agent
mkdir -p "$work"
stty -F "$port" raw -echo -ixon -ixoff cs8 -parenb || exit 1
exec 3<>"$port"
printf '\\nHELLO ${AGENT_PROTOCOL_VERSION}\\n' >&3
# uptime in hundredths; "1" before the two decimals keeps them decimal (a leading 0 reads as octal)
centis () { read -r up _ < /proc/uptime; echo $(( \${up%.*} * 100 + 1\${up#*.} - 100 )); }
while IFS=' ' read -r cmd id arg1 arg2 <&3; do
  case "$cmd" in
  PING) printf 'PONG %s\\n' "$id" >&3 ;;
  RUN)
    head -c "$arg2" <&3 > "$work/script"
    t0=$(centis)
    timeout -s KILL "$arg1" sh "$work/script" < /dev/null > "$work/out" 2> "$work/err"
    rc=$?
    t1=$(centis)
    timed=0
    if [ "$rc" = 137 ] && [ $((t1 - t0)) -ge $((arg1 * 100)) ]; then timed=1; fi
    printf 'RES %s %s %s %s %s\\n' "$id" "$rc" "$timed" "$(wc -c < "$work/out")" "$(wc -c < "$work/err")" >&3
    cat "$work/out" "$work/err" >&3
    printf 'END %s\\n' "$id" >&3
    rm -f "$work/script" "$work/out" "$work/err"
    ;;
  esac
done
`
