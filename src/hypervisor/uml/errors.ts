/** An option of the UML line is missing or out of range; `path` names it (as the QEMU line's error does). */
export class InvalidUmlLineInitError extends Error {
  static override name = 'InvalidUmlLineInitError'
  readonly path: string
  constructor (path: string, reason: string, options?: ErrorOptions) {
    super(`invalid uml line init: ${path} ${reason}`, options)
    this.name = InvalidUmlLineInitError.name
    this.path = path
  }
}

/** The golden root file system could not be built (busybox missing or not static, mke2fs failed). */
export class UmlImageBuildError extends Error {
  static override name = 'UmlImageBuildError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = UmlImageBuildError.name
  }
}

/** linux.uml exited, or its agent did not answer, before the boot deadline. */
export class UmlBootError extends Error {
  static override name = 'UmlBootError'
  /** the last lines of the VM's console log */
  readonly consoleTail: string
  constructor (message: string, consoleTail: string, options?: ErrorOptions) {
    super(consoleTail === '' ? message : `${message}; console: ${consoleTail.split('\n').slice(-4).join(' | ')}`, options)
    this.name = UmlBootError.name
    this.consoleTail = consoleTail
  }
}

/** Processes of a UML VM were still alive after it was killed. */
export class UmlStopError extends Error {
  static override name = 'UmlStopError'
  readonly pids: number[]
  constructor (umid: string, pids: number[], options?: ErrorOptions) {
    super(`processes of UML VM ${umid} outlived SIGKILL: ${pids.join(', ')}`, options)
    this.name = UmlStopError.name
    this.pids = pids
  }
}

/** A guest action run while preparing a golden image failed. */
export class UmlGoldenActionError extends Error {
  static override name = 'UmlGoldenActionError'
  readonly actionId: string
  readonly exitCode: number
  readonly stderr: string
  constructor (actionId: string, exitCode: number, stderr: string, options?: ErrorOptions) {
    super(`golden action ${actionId} exited with ${exitCode}${stderr === '' ? '' : `: ${stderr.trim().split('\n').slice(-2).join(' | ')}`}`, options)
    this.name = UmlGoldenActionError.name
    this.actionId = actionId
    this.exitCode = exitCode
    this.stderr = stderr
  }
}
