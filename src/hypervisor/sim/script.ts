/**
 * The sim line's stand-in for a guest shell, with a guest file system of plain strings. Commands
 * are separated by new lines or `;` (outside quotes). It understands:
 * - `echo WORDS` (to stdout), `echo WORDS >&2` (to stderr), `echo WORDS > FILE` and `>> FILE`;
 * - `cat FILE...` (status 1 and busybox's message for a missing file);
 * - `sleep SECONDS`, which takes that long on the line's clock and counts against the timeout;
 * - `true`, `false`, `exit N`.
 * Every other command counts as a success that prints nothing. The exit code is the last
 * command's, as in sh. Enough for the planner's exports and error paths, and for the driver
 * conformance suite, without a guest.
 */
export interface ScriptOutcome {
  exitCode: number
  stdout: string
  stderr: string
  /** time the script's `sleep`s took, in ms, up to the budget */
  elapsedMs: number
  /** the budget ran out: the script was stopped there, as the guest agent kills it (exit 137) */
  timedOut: boolean
}

export interface ScriptOptions {
  /** the guest's files, changed in place */
  files?: Record<string, string>
  /** how long the script may run, in ms */
  budgetMs?: number
}

export function interpretScript (script: string, options: ScriptOptions = {}): ScriptOutcome {
  const files = options.files ?? {}
  const budget = options.budgetMs ?? Infinity
  let stdout = ''
  let stderr = ''
  let status = 0
  let elapsedMs = 0
  for (const raw of splitCommands(script)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const exit = /^exit(?:\s+(\d+))?$/.exec(line)
    if (exit !== null) return { exitCode: Number(exit[1] ?? status), stdout, stderr, elapsedMs, timedOut: false }
    const sleep = /^sleep\s+(\d+(?:\.\d+)?)$/.exec(line)
    if (sleep !== null) {
      const ms = Number(sleep[1]) * 1000
      if (elapsedMs + ms > budget) return { exitCode: 137, stdout, stderr, elapsedMs: budget, timedOut: true }
      elapsedMs += ms
      status = 0
      continue
    }
    const echo = /^echo(?:\s+(.*?))?(?:\s+(?:(>&2)|(>>?)\s*(\S+)))?$/.exec(line)
    if (echo !== null) {
      const text = unquote(echo[1] ?? '') + '\n'
      const file = echo[4]
      if (echo[2] !== undefined) stderr += text
      else if (file !== undefined) files[file] = (echo[3] === '>>' ? files[file] ?? '' : '') + text
      else stdout += text
      status = 0
      continue
    }
    const cat = /^cat\s+(.+)$/.exec(line)
    if (cat !== null) {
      status = 0
      for (const name of (cat[1] as string).split(/\s+/).map(unquote)) {
        const content = files[name]
        if (content !== undefined) stdout += content
        else { stderr += `cat: can't open '${name}': No such file or directory\n`; status = 1 }
      }
      continue
    }
    status = line === 'false' ? 1 : 0
  }
  return { exitCode: status, stdout, stderr, elapsedMs, timedOut: false }
}

/** Lines, and commands separated by `;` outside quotes. */
function splitCommands (script: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | undefined
  for (const ch of script) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
      current += ch
    } else if (ch === '\'' || ch === '"') {
      quote = ch
      current += ch
    } else if (ch === ';' || ch === '\n') {
      out.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  out.push(current)
  return out
}

function unquote (text: string): string {
  const m = /^(['"])(.*)\1$/.exec(text)
  return m !== null ? (m[2] as string) : text
}
