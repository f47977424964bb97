import { readFile } from 'node:fs/promises'
import { InvalidSpecError, MAX_TEXT_NESTING, nestingTooDeep, validateSpec, type SpecIssue, type VmSpec } from '../planner/index.js'
import { atPosition, parseValuePositioned, yamlErrorText, type PositionedDocument } from '../daemon/yaml-positions.js'
import { errorMessage } from '../interface/index.js'

/** what `--spec -` reads, and what its errors call it */
export const STDIN_SPEC = '-'
const STDIN_NAME = 'standard input'

/**
 * Reads a spec file (YAML or JSON), or standard input for `-`, and validates it, so bad specs
 * never leave the client. An invalid spec's error lists every problem the schema finds, one a
 * line, each with its line and column in the file.
 */
export async function readSpecFile (file: string): Promise<{ raw: unknown, spec: VmSpec }> {
  const name = file === STDIN_SPEC ? STDIN_NAME : file
  let text: string
  try {
    text = file === STDIN_SPEC ? await readStdin() : await readFile(file, 'utf8')
  } catch (err: unknown) {
    throw new InvalidSpecError('', `cannot read spec ${name}: ${errorMessage(err)}`, { cause: err })
  }
  const deep = nestingTooDeep(text)
  if (deep !== undefined) throw new InvalidSpecError('', `${name} nests deeper than ${MAX_TEXT_NESTING} levels at line ${deep}`)
  let positioned: PositionedDocument
  let raw: unknown
  try {
    ({ value: raw, positioned } = parseValuePositioned(text))
  } catch (err: unknown) {
    throw new InvalidSpecError('', `${name} is not valid YAML or JSON: ${yamlErrorText(err)}`, { cause: err })
  }
  try {
    return { raw, spec: validateSpec(raw) }
  } catch (err: unknown) {
    if (err instanceof InvalidSpecError) throw located(err.inFile(name), positioned)
    throw err
  }
}

/**
 * The error with every issue on a line of its own: `FILE: PATH: PROBLEM (line L, column C)`. Its
 * path, problem and file stay the first issue's.
 */
function located (err: InvalidSpecError, positioned: PositionedDocument): InvalidSpecError {
  const issues: SpecIssue[] = err.issues ?? [{ field: err.path, path: fieldKeys(err.path), problem: err.problem }]
  err.message = issues.map((issue) => {
    const text = [err.file, issue.field, issue.problem].filter((part) => part !== undefined && part !== '').join(': ')
    return text + atPosition(positioned.positionOf(issue.path, issue.keys))
  }).join('\n')
  return err
}

/** `actions[0].after[1]` as keys: ['actions', 0, 'after', 1] */
function fieldKeys (field: string): PropertyKey[] {
  return [...field.matchAll(/\[(\d+)\]|([^.[\]]+)/g)].map((m) => m[1] !== undefined ? Number(m[1]) : m[2] as string)
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
