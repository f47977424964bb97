/**
 * How deep a YAML or JSON text may nest its flow collections (`[` and `{`). The YAML parser
 * recurses once per level: thousands of levels cost it seconds, overflow its stack, and after
 * one such document a second one has crashed the whole process (V8 ran out of memory compiling a
 * regular expression on the exhausted stack). No spec, config or scenario needs more than a few.
 */
export const MAX_TEXT_NESTING = 64

/**
 * The line of the first bracket that nests deeper than `max`, or undefined. Brackets inside
 * quotes and comments do not count; a bracket in a block scalar (a script) may, which only a
 * script with dozens of unclosed brackets in a row could notice.
 */
export function nestingTooDeep (text: string, max = MAX_TEXT_NESTING): number | undefined {
  let depth = 0
  let line = 1
  let quote: '"' | "'" | undefined
  let comment = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') { line++; comment = false; continue }
    if (comment) continue
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = undefined
      continue
    }
    if (c === '"' || c === "'") quote = c
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) comment = true
    else if (c === '[' || c === '{') { if (++depth > max) return line }
    else if ((c === ']' || c === '}') && depth > 0) depth--
  }
  return undefined
}
