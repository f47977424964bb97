import { isDhcp, type NetworkSpec } from '../../planner/index.js'
import { ProductionFailedError, type Classad, type ProductionLine } from '../../interface/index.js'

/** The id the plant's own guest step runs under; no spec action can have it (ids start with a letter or digit). */
export const GUEST_NETWORK_STEP = '_vmplant-network'

/** @default 30 s: the agent answers in milliseconds, but a loaded host may take seconds to schedule a guest */
const STEP_TIMEOUT_MS = 30_000

/** The script's exit code when no DHCP server answered in time. */
export const NO_LEASE_EXIT = 4

/**
 * The script busybox `udhcpc` runs on each lease event (it applies nothing itself): `bound` and
 * `renew` put the leased address (`$ip`, prefix `$mask`) on the NIC, replacing any other, and the
 * first router as the default route; `deconfig` at start clears the NIC.
 */
const UDHCPC_SCRIPT = [
  '#!/bin/sh',
  'case "$1" in',
  '  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;',
  '  bound|renew)',
  '    ip -4 addr show dev "$interface" | grep -q "inet $ip/${mask:-32} " || { ip -4 addr flush dev "$interface"; ip addr add "$ip/${mask:-32}" dev "$interface"; }',
  '    if [ -n "$router" ]; then set -- $router; ip route replace default via "$1" dev "$interface"; fi ;;',
  'esac',
  'exit 0'
].join('\n')

/** What the classad says of the VM's NIC. */
export type GuestNic = NonNullable<Classad['nic']>

/**
 * The guest script: the first interface other than `lo` (eth0 on UML, whatever the kernel named
 * it elsewhere) goes up, takes the spec's address and default route when there is one, and
 * reports its MAC and IPv4 address as `mac=` and `address=` lines. Only busybox applets, which
 * every line's guest image has. The address and gateway were validated as dotted quads, so they
 * are safe to put in a script.
 *
 * With DHCP, busybox `udhcpc` asks the client LAN's server (through the domain's tunnel) once a
 * second until the lease timeout, exiting `NO_LEASE_EXIT` when none answered; after the lease it
 * stays in the background (its output in `/tmp/vmplant-udhcpc.log`) and renews it, so that the
 * server does not hand the address to another machine when the lease runs out.
 */
export function guestNetworkScript (network: NetworkSpec | undefined): string {
  const lines = [
    'set -e',
    'dev=',
    'for path in /sys/class/net/*; do name=${path##*/}; [ "$name" = lo ] || { dev=$name; break; }; done',
    '[ -n "$dev" ] || { echo "the guest has no network interface" >&2; exit 3; }',
    'ip link set "$dev" up'
  ]
  if (network !== undefined && isDhcp(network)) {
    const tries = Math.max(1, Math.ceil(network.leaseTimeoutMs / 1000))
    lines.push(
      'mkdir -p /tmp',
      `cat > /tmp/vmplant-udhcpc.sh <<'VMPLANT_EOF'\n${UDHCPC_SCRIPT}\nVMPLANT_EOF`,
      'chmod 755 /tmp/vmplant-udhcpc.sh',
      // -n: give up after the tries; without -q it forks into the background once bound, to renew
      `udhcpc -i "$dev" -s /tmp/vmplant-udhcpc.sh -p /tmp/vmplant-udhcpc.pid -t ${tries} -T 1 -A 1 -n </dev/null >/tmp/vmplant-udhcpc.log 2>&1 || { tail -n 2 /tmp/vmplant-udhcpc.log >&2; exit ${NO_LEASE_EXIT}; }`
    )
  } else if (network !== undefined) {
    lines.push('ip -4 addr flush dev "$dev"', `ip addr add ${network.address} dev "$dev"`)
    if (network.gateway !== undefined) lines.push(`ip route replace default via ${network.gateway} dev "$dev"`)
  }
  lines.push(
    'echo "mac=$(cat /sys/class/net/$dev/address)"',
    'echo "address=$(ip -4 addr show dev "$dev" | sed -n \'s/.*inet \\([0-9./]*\\).*/\\1/p\' | head -n 1)"'
  )
  return lines.join('\n') + '\n'
}

/** The `mac=` and `address=` lines of the script's output; throws when the MAC is missing or malformed. */
export function parseGuestNic (stdout: string): GuestNic {
  const values: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  const mac = values.mac?.toLowerCase()
  if (mac === undefined || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) throw new ProductionFailedError(`the guest reported no MAC address for its NIC (output: ${JSON.stringify(stdout.slice(0, 200))})`)
  const address = values.address
  return { mac, ...(address !== undefined && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(address) ? { address } : {}) }
}

/**
 * The plant's step between resume and the spec's actions, on a VM whose NIC is on its domain's
 * bridge: through the line's guest agent (`runAction`, so every line that runs actions runs it),
 * gives the NIC the spec's address (or a DHCP lease from the client's LAN) and reads back the MAC
 * and address for the classad. A failure fails the production, naming the step.
 */
export async function configureGuestNetwork (line: ProductionLine, vmid: string, network: NetworkSpec | undefined, signal: AbortSignal): Promise<GuestNic> {
  const dhcp = network !== undefined && isDhcp(network)
  const timeoutMs = STEP_TIMEOUT_MS + (dhcp ? network.leaseTimeoutMs : 0)
  const result = await line.runAction(vmid, { id: GUEST_NETWORK_STEP, run: guestNetworkScript(network), timeoutMs }, { signal })
  const output = (result.stderr + result.stdout).trim().slice(-500)
  if (dhcp && !result.timedOut && result.exitCode === NO_LEASE_EXIT) {
    throw new ProductionFailedError(`the guest got no DHCP lease within ${network.leaseTimeoutMs} ms: no DHCP server answered on the domain's network (is \`vmplant vnet proxy\` joining the domain to a LAN with a DHCP server?): ${output}`)
  }
  if (result.timedOut || result.exitCode !== 0) {
    const what = result.timedOut ? `timed out after ${timeoutMs} ms` : `exited with code ${result.exitCode}`
    const want = network === undefined ? 'read the NIC' : isDhcp(network) ? 'take a DHCP lease' : `set the address ${network.address}${network.gateway !== undefined ? ` via ${network.gateway}` : ''}`
    throw new ProductionFailedError(`the plant's network step could not ${want} in the guest: it ${what}: ${output}`)
  }
  const nic = parseGuestNic(result.stdout)
  if (dhcp && nic.address === undefined) throw new ProductionFailedError(`the guest took a DHCP lease but its NIC has no IPv4 address: ${output}`)
  if (network !== undefined && !isDhcp(network) && nic.address !== network.address) throw new ProductionFailedError(`the guest's NIC has address ${nic.address ?? 'none'}, not the spec's ${network.address}`)
  return nic
}
