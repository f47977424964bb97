import { generateKeyPair } from '@libp2p/crypto/keys'
import { startEmbeddedFederation, type EmbeddedFederation, type EmbeddedInit } from '../../src/daemon/embedded.js'
import { VmplantClient } from '../../src/cli/client.js'
import test from 'ava'
import { tempDir } from './temp.js'

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

/**
 * One embedded federation and a temporary folder shared by every test of a file: started before
 * the first, stopped and removed after the last. Read them inside the tests, once started.
 */
export function sharedFederation (init: EmbeddedInit): { readonly federation: EmbeddedFederation, readonly dir: string } {
  let federation: EmbeddedFederation | undefined
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined
  test.before(async () => {
    federation = await startEmbeddedFederation(init)
    await federation.ready()
    dir = await tempDir()
  })
  test.after.always(async () => {
    await federation?.stop()
    await dir?.remove()
  })
  return {
    get federation () {
      if (federation === undefined) throw new Error('the shared federation is not started: read it inside a test')
      return federation
    },
    get dir () {
      if (dir === undefined) throw new Error('the shared folder is not made: read it inside a test')
      return dir.path
    }
  }
}
