/**
 * The first SIGTERM or SIGINT stops gracefully (systemd waits for that); a second one exits at once.
 */
export function stopOnSignals (stop: () => Promise<void>, log: (line: string) => void): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting now`)
      process.exit(130)
    }
    stopping = true
    log(`${signal}: stopping (send it again to exit at once)`)
    stop().then(() => process.exit(0), (err: unknown) => {
      log(`stop failed: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
