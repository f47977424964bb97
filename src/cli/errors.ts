/** The command line was used wrongly; exit code 2. */
export class UsageError extends Error {
  static override name = 'UsageError'
  constructor (message: string) {
    super(message)
    this.name = UsageError.name
  }
}

/** `vmplant domain create` of a name the client's domain folder already holds a key for; exit code 2. */
export class DomainExistsError extends UsageError {
  static override name = 'DomainExistsError'
  constructor (message: string) {
    super(message)
    this.name = DomainExistsError.name
  }
}

/** The client could not connect to the shop, or the shop dropped the connection at once (a closed federation). */
export class ShopUnreachableError extends Error {
  static override name = 'ShopUnreachableError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ShopUnreachableError.name
  }
}

/** `--plant`: the plant could not be reached, or dropped the connection at once (a closed federation). */
export class PlantUnreachableError extends Error {
  static override name = 'PlantUnreachableError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = PlantUnreachableError.name
  }
}

/** The profile (src/cli/profile.ts) cannot be used; the message names the file, and each problem's line and column; exit code 2. */
export class ProfileError extends Error {
  static override name = 'ProfileError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = ProfileError.name
  }
}
