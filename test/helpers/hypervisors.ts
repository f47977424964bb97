import { pidsMentioning, processGone } from '../hypervisor/qemu-helpers.js'

/** kills, by pid, every process whose command line names `text` (a test's own folder), and waits until they are gone */
export async function killMentioning (text: string): Promise<void> {
  const pids = pidsMentioning(text)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  const until = Date.now() + 10_000
  while (!pids.every(processGone) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
}
