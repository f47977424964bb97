/**
 * The sim line's stand-in for a guest shell. It understands `echo WORDS` (to stdout),
 * `echo WORDS >&2` (to stderr) and `exit N`; every other command counts as a success that
 * prints nothing. Enough for the planner's exports and error paths, without a guest.
 */
export interface ScriptOutcome { exitCode: number, stdout: string, stderr: string }

export function interpretScript (script: string): ScriptOutcome {
  let stdout = ''
  let stderr = ''
  for (const raw of script.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const exit = /^exit(?:\s+(\d+))?$/.exec(line)
    if (exit !== null) return { exitCode: Number(exit[1] ?? 0), stdout, stderr }
    const echo = /^echo(?:\s+(.*?))?(\s+>&2)?$/.exec(line)
    if (echo !== null) {
      const text = unquote(echo[1] ?? '') + '\n'
      if (echo[2] !== undefined) stderr += text
      else stdout += text
    }
  }
  return { exitCode: 0, stdout, stderr }
}

function unquote (text: string): string {
  const m = /^(['"])(.*)\1$/.exec(text)
  return m !== null ? (m[2] as string) : text
}
