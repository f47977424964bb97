export class StoreError extends Error {
  static override name = 'StoreError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = StoreError.name
  }
}
