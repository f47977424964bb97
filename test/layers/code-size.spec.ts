/**
 * The size and type-safety targets of the code we write (issue 18, docs/STYLE): no file in src/
 * or sim/ over 300 lines, no function over 80, no `as unknown as`, no `catch (err: any)`. Read
 * from the sources with the TypeScript compiler's parser, so a function is what tsc calls one.
 */
import test from 'ava'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** The package's root folder (this file runs from dist/test/layers/). */
const root = fileURLToPath(new URL('../../../', import.meta.url))

const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 80

interface Source { path: string, text: string, file: ts.SourceFile }

async function tsFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return await tsFiles(path)
    return e.isFile() && e.name.endsWith('.ts') ? [path] : []
  }))
  return nested.flat()
}

async function sources (): Promise<Source[]> {
  const paths = (await Promise.all(['src', 'sim'].map(async (d) => await tsFiles(join(root, d))))).flat().sort()
  return await Promise.all(paths.map(async (path) => {
    const text = await readFile(path, 'utf8')
    return { path: relative(root, path), text, file: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) }
  }))
}

/** lines of a text, not counting the newline that ends the last one */
function lineCount (text: string): number {
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length
}

function lineOf (file: ts.SourceFile, pos: number): number {
  return file.getLineAndCharacterOfPosition(pos).line + 1
}

function visit (node: ts.Node, each: (node: ts.Node) => void): void {
  each(node)
  ts.forEachChild(node, (child) => { visit(child, each) })
}

/** declarations, methods, accessors, constructors, and arrow functions and function expressions with a body block */
function isFunctionWithBody (node: ts.Node): node is ts.FunctionLikeDeclaration {
  if (ts.isArrowFunction(node)) return ts.isBlock(node.body)
  return (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) &&
    node.body !== undefined
}

function functionName (node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
  if (node.name !== undefined) return node.name.getText(file)
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText(file)
  return '(anonymous)'
}

/** `file:line name (n lines)` for each function over MAX_FUNCTION_LINES */
function longFunctions (source: Source): string[] {
  const found: string[] = []
  visit(source.file, (node) => {
    if (!isFunctionWithBody(node)) return
    const start = lineOf(source.file, node.getStart(source.file))
    const lines = lineOf(source.file, node.getEnd()) - start + 1
    if (lines > MAX_FUNCTION_LINES) found.push(`${source.path}:${start} ${functionName(node, source.file)} (${lines} lines)`)
  })
  return found
}

/** `x as unknown as T`: a cast that tells the compiler nothing it can check */
function doubleCasts (source: Source): string[] {
  const found: string[] = []
  visit(source.file, (node) => {
    if (ts.isAsExpression(node) && ts.isAsExpression(node.expression) && node.expression.type.kind === ts.SyntaxKind.UnknownKeyword) {
      found.push(`${source.path}:${lineOf(source.file, node.getStart(source.file))}`)
    }
  })
  return found
}

/** `catch (err: any)`: a caught value used unchecked; `unknown` and errorMessage/errorCode instead */
function anyCatches (source: Source): string[] {
  const found: string[] = []
  visit(source.file, (node) => {
    if (ts.isCatchClause(node) && node.variableDeclaration?.type?.kind === ts.SyntaxKind.AnyKeyword) {
      found.push(`${source.path}:${lineOf(source.file, node.getStart(source.file))}`)
    }
  })
  return found
}

function report (what: string, found: string[]): string {
  return `${found.length} ${what}:\n  ${found.join('\n  ')}`
}

const all = sources()

function sample (text: string): Source {
  return { path: 'sample.ts', text, file: ts.createSourceFile('sample.ts', text, ts.ScriptTarget.Latest, true) }
}

test('the detectors find each kind of violation, and only those', (t) => {
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `  const v${i} = ${i}\n`).join('')
  const text = [
    `function long () {\n${body(79)}}\n`, // 81 lines
    `function fits () {\n${body(78)}}\n`, // 80 lines
    `class C {\n  method () {\n${body(79)}  }\n  short () { return 1 }\n}\n`,
    `const arrow = () => {\n${body(79)}}\n`,
    `const expression = (x: number) => x + 1\n`,
    'const cast = (1 as unknown as string)\n',
    'const fine = (1 as unknown)\n',
    'try { cast } catch (err: any) { }\n',
    'try { cast } catch (err: unknown) { }\n',
    'try { cast } catch { }\n'
  ].join('')
  const source = sample(text)
  t.deepEqual(longFunctions(source), ['sample.ts:1 long (81 lines)', 'sample.ts:163 method (81 lines)', 'sample.ts:246 arrow (81 lines)'])
  t.deepEqual(doubleCasts(source), ['sample.ts:328'])
  t.deepEqual(anyCatches(source), ['sample.ts:330'])
  t.is(lineCount(text), 332)
})

test('the checks read every TypeScript file of src/ and sim/', async (t) => {
  const files = await all
  t.true(files.some((f) => f.path === join('src', 'interface', 'index.ts')))
  t.true(files.some((f) => f.path.startsWith(`sim${'/'}`)))
  t.false(files.some((f) => !f.path.endsWith('.ts')))
})

test(`no file over ${MAX_FILE_LINES} lines`, async (t) => {
  const found = (await all).map((s) => ({ path: s.path, lines: lineCount(s.text) }))
    .filter((s) => s.lines > MAX_FILE_LINES).map((s) => `${s.path} (${s.lines} lines)`)
  t.deepEqual(found, [], report(`files over ${MAX_FILE_LINES} lines`, found))
})

test(`no function over ${MAX_FUNCTION_LINES} lines`, async (t) => {
  const found = (await all).flatMap(longFunctions)
  t.deepEqual(found, [], report(`functions over ${MAX_FUNCTION_LINES} lines`, found))
})

test('no `as unknown as`', async (t) => {
  const found = (await all).flatMap(doubleCasts)
  t.deepEqual(found, [], report('casts through unknown', found))
})

test('no `catch (err: any)`', async (t) => {
  const found = (await all).flatMap(anyCatches)
  t.deepEqual(found, [], report('catch clauses typed any', found))
})
