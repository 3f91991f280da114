import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { coreTxBodySchema, decodeTx } from '@terrane/chain'
import { fromHex, sha256, toHex } from '@terrane/codec'
import { addressOfPublicKey, decodeAddress, seedSigner, verifyInDomain } from '@terrane/crypto'
import { exitCodes } from '../src/index.ts'
import { testCli } from './helpers.ts'

interface Stub {
  url: string
  submitted: Uint8Array[]
  /** Result code the stub reports for committed transactions. */
  txCode: number
  /** When set, every submitted transaction reads dropped with this reason (and is never committed). */
  dropReason: string | null
  /** false: answer the status route as an older node would (API_ROUTE_NOT_FOUND). */
  hasStatusRoute: boolean
  /** Status requests served. */
  statusRequests: number
  close(): Promise<void>
}

/** A node API stub with the REST routes the CLI uses: status, accounts, txs. */
async function stubNode(accounts: Record<string, { nonce: number; balance: string }>): Promise<Stub> {
  const submitted: Uint8Array[] = []
  const stub = { submitted, txCode: 0, dropReason: null, hasStatusRoute: true, statusRequests: 0 } as Stub
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const url = req.url ?? ''
      if (req.method === 'GET' && url === '/v1/status')
        return send(200, {
          chainId: 'stub-chain',
          height: 7,
          latestBlockHash: '00'.repeat(32),
          latestBlockTimeMs: 1,
          isSyncing: false,
          peerCount: 3,
          version: 'stub',
        })
      const account = /^\/v1\/accounts\/([a-z0-9]+)$/.exec(url)
      if (req.method === 'GET' && account !== null) {
        const a = accounts[account[1] as string]
        if (a === undefined) return send(404, { error: { code: 'API_NOT_FOUND', message: 'no such account' } })
        return send(200, { address: account[1], balance: a.balance, nonce: a.nonce, kind: 'user' })
      }
      if (req.method === 'POST' && url === '/v1/txs') {
        const bytes = fromHex((JSON.parse(body) as { tx: string }).tx)
        submitted.push(bytes)
        return send(200, { hash: toHex(sha256(bytes)) })
      }
      const status = /^\/v1\/txs\/([0-9a-f]{64})\/status$/.exec(url)
      if (req.method === 'GET' && status !== null) {
        if (!stub.hasStatusRoute) return send(404, { error: { code: 'API_ROUTE_NOT_FOUND', message: `no route ${url}` } })
        stub.statusRequests++
        const hash = status[1] as string
        const index = submitted.findIndex((b) => toHex(sha256(b)) === hash)
        if (index < 0) return send(200, { hash, status: 'unknown' })
        if (stub.dropReason !== null) return send(200, { hash, status: 'dropped', reason: stub.dropReason, droppedAtMs: 1 })
        return send(200, { hash, status: 'committed', height: 8, index, code: stub.txCode })
      }
      const tx = /^\/v1\/txs\/([0-9a-f]{64})$/.exec(url)
      if (req.method === 'GET' && tx !== null) {
        if (stub.dropReason !== null) return send(404, { error: { code: 'API_NOT_FOUND', message: 'no such tx' } })
        const index = submitted.findIndex((b) => toHex(sha256(b)) === tx[1])
        if (index < 0) return send(404, { error: { code: 'API_NOT_FOUND', message: 'no such tx' } })
        return send(200, {
          hash: tx[1],
          height: 8,
          index,
          code: stub.txCode,
          reason: stub.txCode === 0 ? '' : 'insufficient_funds',
          accounts: [],
        })
      }
      send(404, { error: { code: 'API_NOT_FOUND', message: `no route ${url}` } })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  stub.close = () => new Promise((resolve) => server.close(() => resolve()))
  return stub
}

test('tx send/delegate/redelegate sign with a keystore key, take chain id and nonce from the node, and wait for the commit', async () => {
  const cli = await testCli({ TERRANE_PASSWORD: 'a long password' })
  const seed = new Uint8Array(32).fill(7)
  const signer = seedSigner(seed)
  const sender = addressOfPublicKey(signer.publicKey)
  const stub = await stubNode({ [sender]: { nonce: 5, balance: '1000000000' } })
  try {
    const seedFile = `${cli.dir}/seed.hex`
    await import('node:fs/promises').then((fs) => fs.writeFile(seedFile, toHex(seed)))
    assert.equal((await cli.run(['keys', 'import', 'alice', seedFile, '--seed'])).code, 0)
    const to = addressOfPublicKey(seedSigner(new Uint8Array(32).fill(9)).publicKey)

    const sent = await cli.run(['tx', 'send', to, '2.5trn', '--from', 'alice', '--node', stub.url, '--json'])
    assert.equal(sent.code, 0, sent.stderr)
    const result = JSON.parse(sent.stdout) as { hash: string; status: string; height: number }
    assert.equal(result.status, 'committed')
    assert.equal(result.height, 8)
    assert.ok(stub.statusRequests > 0, '--wait asks the status route')
    const bytes = stub.submitted[0] as Uint8Array
    assert.equal(result.hash, toHex(sha256(bytes)))
    const decoded = decodeTx(bytes, coreTxBodySchema)
    assert.equal(decoded.body.chainId, 'stub-chain')
    assert.equal(decoded.body.nonce, 5)
    assert.equal(decoded.body.feeMicro, 1000n)
    assert.deepEqual(decoded.body.sender, decodeAddress(sender))
    assert.deepEqual(decoded.body.messages, [{ type: 'bank/send', to: decodeAddress(to), amountMicro: 2_500_000n }])
    const signature = decoded.envelope.signatures[0]
    assert.ok(signature !== undefined)
    assert.ok(verifyInDomain(signer.publicKey, { chainId: 'stub-chain', kind: 'tx' }, decoded.envelope.body, signature.signature))

    // Explicit nonce, fee and chain id; no waiting.
    const validator = addressOfPublicKey(seedSigner(new Uint8Array(32).fill(11)).publicKey)
    const delegated = await cli.run([
      'tx',
      'delegate',
      validator,
      '100',
      '--from',
      'alice',
      '--nonce',
      '9',
      '--fee',
      '2000utrn',
      '--chain-id',
      'other',
      '--no-wait',
      '--node',
      stub.url,
      '--json',
    ])
    assert.equal(delegated.code, 0, delegated.stderr)
    assert.equal((JSON.parse(delegated.stdout) as { status: string }).status, 'accepted')
    const d = decodeTx(stub.submitted[1] as Uint8Array, coreTxBodySchema)
    assert.equal(d.body.nonce, 9)
    assert.equal(d.body.chainId, 'other')
    assert.equal(d.body.feeMicro, 2000n)
    assert.deepEqual(d.body.messages, [{ type: 'staking/delegate', validator: decodeAddress(validator), amountMicro: 100n }])

    const other = addressOfPublicKey(seedSigner(new Uint8Array(32).fill(12)).publicKey)
    assert.equal(
      (await cli.run(['tx', 'redelegate', validator, other, '1trn', '--from', 'alice', '--no-wait', '--node', stub.url])).code,
      0,
    )
    assert.deepEqual(decodeTx(stub.submitted[2] as Uint8Array, coreTxBodySchema).body.messages, [
      { type: 'staking/redelegate', source: decodeAddress(validator), destination: decodeAddress(other), amountMicro: 1_000_000n },
    ])
    assert.equal((await cli.run(['tx', 'undelegate', validator, '1trn', '--from', 'alice', '--no-wait', '--node', stub.url])).code, 0)
    assert.equal(decodeTx(stub.submitted[3] as Uint8Array, coreTxBodySchema).body.messages[0]?.type, 'staking/undelegate')

    // A transaction that commits with a failure code is an error.
    stub.txCode = 5
    const failed = await cli.run(['tx', 'send', to, '1', '--from', 'alice', '--node', stub.url])
    assert.equal(failed.code, exitCodes.error)
    assert.match(failed.stderr, /^error \[CLI_TX_FAILED\]: .*insufficient_funds \(code 5\)/)

    // A dropped transaction fails at once with the node's reason, instead of waiting out --timeout (60 s here: a CLI
    // ignoring the drop would end with CLI_TIMEOUT, which the match below refuses).
    stub.txCode = 0
    stub.dropReason = 'replaced'
    const dropped = await cli.run(['tx', 'send', to, '1', '--from', 'alice', '--node', stub.url, '--timeout', '60000'])
    assert.equal(dropped.code, exitCodes.error)
    assert.match(
      dropped.stderr,
      /^error \[CLI_TX_DROPPED\]: transaction [0-9a-f]{64} was dropped from the mempool: replaced by a higher-fee transaction with the same nonce\n$/,
    )
    stub.dropReason = 'evicted'
    const evicted = await cli.run(['tx', 'send', to, '1', '--from', 'alice', '--node', stub.url, '--json'])
    assert.equal(evicted.code, exitCodes.error)
    assert.match(
      evicted.stderr,
      /^error \[CLI_TX_DROPPED\]: .*was dropped from the mempool: evicted by a higher-fee transaction while the mempool was full/,
    )
    stub.dropReason = null

    // A node without the status route (older than it) is polled on GET /v1/txs/:hash as before.
    stub.hasStatusRoute = false
    const requestsBefore = stub.statusRequests
    const old = await cli.run(['tx', 'send', to, '1', '--from', 'alice', '--node', stub.url, '--json'])
    assert.equal(old.code, 0, old.stderr)
    assert.equal((JSON.parse(old.stdout) as { status: string; height: number }).height, 8)
    assert.equal(stub.statusRequests, requestsBefore)
    stub.hasStatusRoute = true

    // A wrong password never reaches the node.
    const before = stub.submitted.length
    const wrong = await cli.run(['tx', 'send', to, '1', '--from', 'alice', '--node', stub.url], { TERRANE_PASSWORD: 'wrong password' })
    assert.equal(wrong.code, exitCodes.error)
    assert.match(wrong.stderr, /CRYPTO_WRONG_PASSWORD/)
    assert.equal(stub.submitted.length, before)
  } finally {
    await stub.close()
    await cli.cleanup()
  }
})

test('query status and account through the SDK; a missing account exits 3', async () => {
  const cli = await testCli()
  const address = addressOfPublicKey(seedSigner(new Uint8Array(32).fill(3)).publicKey)
  const stub = await stubNode({ [address]: { nonce: 2, balance: '77' } })
  try {
    const status = await cli.run(['query', 'status', '--node', stub.url])
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /^chainId: stub-chain\nheight: 7\n/)
    const account = await cli.run(['query', 'account', address, '--json'], { TERRANE_NODE: stub.url })
    assert.deepEqual(JSON.parse(account.stdout), { address, balance: '77', nonce: 2, kind: 'user' })
    const other = addressOfPublicKey(seedSigner(new Uint8Array(32).fill(4)).publicKey)
    const missing = await cli.run(['query', 'account', other, '--node', stub.url])
    assert.equal(missing.code, exitCodes.notFound)
    assert.match(missing.stderr, /^error \[CLI_NOT_FOUND\]: account trn1/)
    const notAKey = await cli.run(['query', 'account', 'nobody', '--node', stub.url])
    assert.equal(notAKey.code, exitCodes.usage)
  } finally {
    await stub.close()
    await cli.cleanup()
  }
})
