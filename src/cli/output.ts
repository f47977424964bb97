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

export const consoleOutput: Output = {
  print: (line) => { process.stdout.write(line + '\n') },
  error: (line) => { process.stderr.write(line + '\n') },
  // one line that fits the terminal: a longer one would wrap, and \r would redraw only its end
  ...(process.stderr.isTTY === true ? { status: (line: string) => { process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 0) > 1 ? process.stderr.columns - 1 : 79)}`) } } : {})
}
