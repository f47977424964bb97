/** Where commands write, so that tests can run them in-process and read what they said. */
export interface Output {
  print(line: string): void
  error(line: string): void
  /**
   * Redraws one status line in place (a progress bar); '' clears it. Only a terminal has it:
   * without it, progress is written as plain lines with `error`.
   */
  status?(line: string): void
}

/**
 * A stream that stops taking lines once its reader has gone (EPIPE: `vmplant list | head -1`),
 * rather than the process dying of the stream's error: the command runs to its end and keeps its
 * exit code (a VM that was made stays made, and is reported as such by the code).
 */
function lineWriter (stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    closed = true
  })
  return (text) => { if (!closed) stream.write(text) }
}

const writeOut = lineWriter(process.stdout)
const writeErr = lineWriter(process.stderr)

export const consoleOutput: Output = {
  print: (line) => { writeOut(line + '\n') },
  error: (line) => { writeErr(line + '\n') },
  // one line that fits the terminal: a longer one would wrap, and \r would redraw only its end
  ...(process.stderr.isTTY === true ? { status: (line: string) => { writeErr(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 0) > 1 ? process.stderr.columns - 1 : 79)}`) } } : {})
}
