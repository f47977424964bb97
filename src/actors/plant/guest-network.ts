import type { StaticNetwork } from '../../planner/index.js'
import { ProductionFailedError, type Classad, type ProductionLine } from '../../interface/index.js'

/** The id the plant's own guest step runs under; no spec action can have it (ids start with a letter or digit). */
export const GUEST_NETWORK_STEP = '_vmplant-network'

/** @default 30 s: the agent answers in milliseconds, but a loaded host may take seconds to schedule a guest */
const STEP_TIMEOUT_MS = 30_000

/** What the classad says of the VM's NIC. */
export type GuestNic = NonNullable<Classad['nic']>

/**
 * The guest script: the first interface other than `lo` (eth0 on UML, whatever the kernel named
 * it elsewhere) goes up, takes the spec's address and default route when there is one, and
 * reports its MAC and IPv4 address as `mac=` and `address=` lines. Only busybox applets, which
 * every line's guest image has. The address and gateway were validated as dotted quads, so they
 * are safe to put in a script.
 */
export function guestNetworkScript (network: StaticNetwork | undefined): string {
  const lines = [
    'set -e',
    'dev=',
    'for path in /sys/class/net/*; do name=${path##*/}; [ "$name" = lo ] || { dev=$name; break; }; done',
    '[ -n "$dev" ] || { echo "the guest has no network interface" >&2; exit 3; }',
    'ip link set "$dev" up'
  ]
  if (network !== undefined) {
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
 * gives the NIC the spec's address and reads back the MAC and address for the classad. A failure
 * fails the production, naming the step.
 */
export async function configureGuestNetwork (line: ProductionLine, vmid: string, network: StaticNetwork | undefined, signal: AbortSignal): Promise<GuestNic> {
  const result = await line.runAction(vmid, { id: GUEST_NETWORK_STEP, run: guestNetworkScript(network), timeoutMs: STEP_TIMEOUT_MS }, { signal })
  if (result.timedOut || result.exitCode !== 0) {
    const what = result.timedOut ? `timed out after ${STEP_TIMEOUT_MS} ms` : `exited with code ${result.exitCode}`
    const want = network !== undefined ? `set the address ${network.address}${network.gateway !== undefined ? ` via ${network.gateway}` : ''}` : 'read the NIC'
    throw new ProductionFailedError(`the plant's network step could not ${want} in the guest: it ${what}: ${(result.stderr + result.stdout).trim().slice(-500)}`)
  }
  const nic = parseGuestNic(result.stdout)
  if (network !== undefined && nic.address !== network.address) throw new ProductionFailedError(`the guest's NIC has address ${nic.address ?? 'none'}, not the spec's ${network.address}`)
  return nic
}
