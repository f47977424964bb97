/**
 * The first SIGTERM or SIGINT stops gracefully (systemd waits for that) within `deadlineMs`; a stop
 * that takes longer exits with status 1 and says what it abandoned; a second signal exits at once.
 */
export function stopOnSignals (stop: () => Promise<void>, log: (line: string) => void, deadline?: { ms: number, abandons: () => string | undefined }): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting now`)
      process.exit(130)
    }
    stopping = true
    log(`${signal}: stopping (send it again to exit at once)`)
    if (deadline !== undefined) {
      setTimeout(() => {
        log(`the stop did not finish within ${deadline.ms} ms; exiting, abandoned: ${deadline.abandons() ?? 'nothing known'}`)
        process.exit(1)
      }, deadline.ms)
    }
    stop().then(() => process.exit(0), (err: unknown) => {
      log(`stop failed: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
