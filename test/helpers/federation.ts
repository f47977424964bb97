import '../../src/polyfill.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation, type EmbeddedFederation, type EmbeddedInit } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'

export interface Fixture { federation: EmbeddedFederation, client: VmplantClient, stop: () => Promise<void> }

/** An embedded federation and one started client; `stop` ends both. */
export async function federationWithClient (init: EmbeddedInit): Promise<Fixture> {
  const federation = await startEmbeddedFederation(init)
  const client = new VmplantClient({ shop: federation.shopAddr, privateKey: await generateKeyPair('Ed25519') })
  try {
    await federation.ready()
    await client.start()
  } catch (err) {
    await client.stop()
    await federation.stop()
    throw err
  }
  return { federation, client, stop: async () => { await client.stop(); await federation.stop() } }
}

export const SMALL_SPEC = { hardware: { memoryMB: 64, os: 'linux' }, actions: [{ id: 'hello', run: 'echo hello' }] }
