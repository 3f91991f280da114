// @peculiar/x509 v2 resolves its algorithm providers through tsyringe, which needs a Reflect
// metadata polyfill loaded first; and it signs/verifies through WebCrypto, which on Node 20 is
// node:crypto's `webcrypto`. Both are set up here, once, so no caller has to know.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export { x509 }
