/** The command line was used wrongly; exit code 2. */
export class UsageError extends Error {
  static override name = 'UsageError'
  constructor (message: string) {
    super(message)
    this.name = UsageError.name
  }
}
