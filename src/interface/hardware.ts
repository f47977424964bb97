/** The hardware a client asks for; the planner's spec schema produces exactly this. */
export interface Hardware {
  memoryMB: number
  os: string
  arch: string
  diskMB?: number | undefined
}

/** What a host action does to a VM from outside the guest (attach an ISO image, a NIC). */
export type HostParams =
  | { attach: 'iso', image: string }
  | { attach: 'nic', network: string, mac?: string | undefined }

export type HostActionKind = HostParams['attach']
