import type { Command } from 'commander'

/** Shells that `vmplant completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const
export type CompletionShell = typeof COMPLETION_SHELLS[number]

/** One command's words as a shell completes them: its path from the program (`''`, `domain`, `domain grant`). */
interface CommandWords {
  path: string
  commands: Array<{ name: string, about: string }>
  options: Array<{ flag: string, about: string }>
  /** the flags that take a value, whose next word is that value (a file, unless `choices` names them) */
  takesValue: string[]
  choices: Array<{ flag: string, values: string[] }>
  /** the values the command's first argument may take, when it names them (`completion <shell>`) */
  argumentChoices: string[]
}

/** Every command of the program, from commander's own record of them, so the scripts follow the commands as they change. */
function commandWords (program: Command): CommandWords[] {
  const all: CommandWords[] = []
  const visit = (command: Command, path: string): void => {
    const words: CommandWords = { path, commands: [], options: [], takesValue: [], choices: [], argumentChoices: command.registeredArguments[0]?.argChoices ?? [] }
    for (const sub of command.commands) words.commands.push({ name: sub.name(), about: sub.description() })
    for (const option of [...command.options, command.createHelp().visibleOptions(command).find((o) => o.long === '--help')]) {
      if (option === undefined || option.hidden) continue
      const flags = [option.long, option.short].filter((f): f is string => f !== undefined)
      for (const flag of flags) {
        if (!words.options.some((o) => o.flag === flag)) words.options.push({ flag, about: option.description })
        if (option.required || option.optional) words.takesValue.push(flag)
        if (option.argChoices !== undefined) words.choices.push({ flag, values: option.argChoices })
      }
    }
    all.push(words)
    for (const sub of command.commands) visit(sub, path === '' ? sub.name() : `${path} ${sub.name()}`)
  }
  visit(program, '')
  return all
}

/** a shell word in single quotes */
function quoted (text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`
}

/** a description on one line, short enough for a completion menu */
function brief (about: string): string {
  const line = about.replace(/\s+/g, ' ').trim()
  return line.length > 70 ? `${line.slice(0, 69)}…` : line
}

/** The completion script for `shell`, for the program's commands and options. */
export function completionScript (program: Command, shell: CompletionShell): string {
  const words = commandWords(program)
  return shell === 'bash' ? bashScript(program.name(), words) : zshScript(program.name(), words)
}

function caseTable (fn: string, rows: Array<[string, string]>): string {
  return `${fn} () {\n  case "$1" in\n${rows.map(([key, value]) => `    ${quoted(key)}) echo ${quoted(value)} ;;`).join('\n')}\n  esac\n}`
}

function bashScript (name: string, all: CommandWords[]): string {
  const fn = `_${name.replace(/\W/g, '_')}`
  return `# ${name} completion for bash: \`source <(${name} completion bash)\`, or save it as
# ~/.local/share/bash-completion/completions/${name}
${caseTable(`${fn}_commands`, all.map((w) => [w.path, w.commands.map((c) => c.name).join(' ')]))}
${caseTable(`${fn}_arguments`, all.filter((w) => w.argumentChoices.length > 0).map((w) => [w.path, w.argumentChoices.join(' ')]))}
${caseTable(`${fn}_options`, all.map((w) => [w.path, w.options.map((o) => o.flag).join(' ')]))}
${caseTable(`${fn}_value_options`, all.map((w) => [w.path, w.takesValue.join(' ')]))}
${caseTable(`${fn}_choices`, all.flatMap((w) => w.choices.map((c): [string, string] => [`${w.path} ${c.flag}`, c.values.join(' ')])))}
${fn} () {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" i word
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    if [[ " $(${fn}_value_options "$path") " == *" $word "* ]]; then i=$((i + 1)); continue; fi
    if [[ " $(${fn}_commands "$path") " == *" $word "* ]]; then path="\${path:+$path }$word"; fi
  done
  if [[ -n "$prev" && "$prev" == -* && " $(${fn}_value_options "$path") " == *" $prev "* ]]; then
    local choices
    choices="$(${fn}_choices "\${path:+$path }$prev")"
    if [[ -n "$choices" ]]; then COMPREPLY=($(compgen -W "$choices" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_options "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${fn}_commands "$path") $(${fn}_arguments "$path")" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${name}
`
}

/** a zsh `_describe` entry, `name:description`, quoted */
function described (name: string, about: string): string {
  return quoted(`${name.replace(/:/g, '\\:')}:${brief(about)}`)
}

function zshScript (name: string, all: CommandWords[]): string {
  const fn = `_${name.replace(/\W/g, '_')}`
  const rows = all.map((w) => `    ${quoted(w.path)})\n      cmds=(${w.commands.map((c) => described(c.name, c.about)).join(' ')})\n      opts=(${w.options.map((o) => described(o.flag, o.about)).join(' ')})\n      vals=(${w.takesValue.map(quoted).join(' ')})\n      args_=(${w.argumentChoices.map(quoted).join(' ')}) ;;`)
  const choices = all.flatMap((w) => w.choices.map((c) => `    ${quoted(`${w.path} ${c.flag}`.trim())}) picks=(${c.values.map(quoted).join(' ')}) ;;`))
  return `#compdef ${name}
# ${name} completion for zsh: save it as _${name} in a folder of $fpath, or \`source <(${name} completion zsh)\` after compinit
compdef ${fn} ${name}

${fn}_words () {
  case "$1" in
${rows.join('\n')}
  esac
}

${fn}_choices () {
  picks=()
  case "$1" in
${choices.join('\n')}
  esac
}

${fn} () {
  local -a cmds opts vals picks args_
  local path_="" word prev i
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    ${fn}_words "$path_"
    if (( \${vals[(Ie)$word]} )); then (( i++ )); continue; fi
    if (( \${cmds[(I)\${(b)word}:*]} )); then path_="\${path_:+$path_ }$word"; fi
  done
  ${fn}_words "$path_"
  prev=\${words[CURRENT-1]}
  if (( CURRENT > 2 )) && (( \${vals[(Ie)$prev]} )); then
    ${fn}_choices "\${path_:+$path_ }$prev"
    if (( \${#picks} )); then compadd -a picks; else _files; fi
  elif [[ \${words[CURRENT]} == -* ]]; then
    _describe -t options '${name} option' opts
  elif (( \${#cmds} )); then
    _describe -t commands '${name} command' cmds
  elif (( \${#args_} )); then
    compadd -a args_
  else
    _files
  fi
}

if [[ "$funcstack[1]" == "${fn}" ]]; then ${fn} "$@"; fi
`
}
