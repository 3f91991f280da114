// The service scenario's client over a node's REST API (@terrane/sdk): signed transactions, waits
// for their blocks, balances, and the agreements/channels party indexes. Agreement records come
// from the state proof route (value bytes; the proof is not checked here).
import { decode, type Schema } from '@terrane/codec'
import { coreMessages, keys, messageRegistry, paramsSchema, signTx, txBodySchema, type Msg, type TxBody } from '@terrane/chain'
import { accountIdOfPublicKey, encodeAddress, type Signer } from '@terrane/crypto'
import { SdkError, type TerraneClient } from '@terrane/sdk'
import { agreementKeys, agreementsMessages, agreementStateSchema, agreementTermsSchema, type ScenarioClient } from '@terrane/agreements'
import { channelsMessages } from '@terrane/channels'
import { CliError } from '../../errors.ts'

/** Transaction body schema of a chain with the core, agreements and channels messages. */
export const serviceTxBodySchema: Schema<TxBody> = txBodySchema(
  messageRegistry([
    ...Object.entries(coreMessages).map(([name, messages]) => ({ name, messages })),
    { name: 'agreements', messages: agreementsMessages },
    { name: 'channels', messages: channelsMessages },
  ]),
)

export interface ApiScenarioClientInit {
  client: TerraneClient
  /** @default 200 */
  pollMs?: number
  /** How long to wait for a transaction's block or a height. @default 60_000 */
  waitMsMax?: number
  /** Fee of every transaction. @default 1_000n */
  feeMicro?: bigint
}

/** A ScenarioClient that also counts the fees it paid per sender (hex account id). */
export interface ApiScenarioClient extends ScenarioClient {
  readonly feesPaidMicro: Map<string, bigint>
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Reads the chain id and epoch length from the node, then returns the client. */
export async function apiScenarioClient(init: ApiScenarioClientInit): Promise<ApiScenarioClient> {
  const { client } = init
  const pollMs = init.pollMs ?? 200
  const waitMsMax = init.waitMsMax ?? 60_000
  const feeMicro = init.feeMicro ?? 1_000n
  const status = await client.status()
  const readState = async <T>(key: string, schema: Schema<T>): Promise<T | undefined> => {
    const proof = await client.stateProof(Buffer.from(key, 'latin1'))
    return proof.value === null ? undefined : decode(schema, Buffer.from(proof.value, 'hex'))
  }
  const params = await readState(keys.params(), paramsSchema)
  if (params === undefined) throw new CliError('CLI_NOT_FOUND', 'the node has no chain parameters in its state')
  const nonces = new Map<string, number>()
  const feesPaidMicro = new Map<string, bigint>()

  async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + waitMsMax
    for (;;) {
      const value = await probe()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new CliError('CLI_TIMEOUT', `timed out after ${waitMsMax} ms waiting for ${what}`)
      await sleep(pollMs)
    }
  }

  // A transaction's result is served once its block is stored, a moment before the block's state is
  // committed; state proofs at height H carry the state after H - 1. So "height H is committed" here
  // means the node is at H + 1.
  const stateAfter = async (height: number): Promise<void> => {
    await until(`height ${height + 1}`, async () => ((await client.status()).height > height ? true : undefined))
  }

  const agreementModuleKey = (key: string) => keys.module('agreements', key)

  return {
    chainId: status.chainId,
    epochBlocks: params.epochBlocks,
    feesPaidMicro,
    async submit(signer: Signer, messages: Msg[]) {
      const sender = accountIdOfPublicKey(signer.publicKey)
      const k = hex(sender)
      const nonce = nonces.get(k) ?? (await client.account(encodeAddress(sender)))?.nonce ?? 0
      const bytes = signTx(serviceTxBodySchema, { chainId: status.chainId, sender, nonce, feeMicro, expiryHeight: 0, messages }, [signer])
      let hash: string
      try {
        hash = await client.submitTx(bytes)
      } catch (err) {
        // Refused before a block (the nonce was not used): the caller sees the node's reason.
        if (err instanceof SdkError && err.code === 'API_TX_REJECTED') return { code: -1, log: err.message }
        throw err
      }
      nonces.set(k, nonce + 1)
      const tx = await until(`transaction ${hash}`, async () => (await client.tx(hash)) ?? undefined)
      feesPaidMicro.set(k, (feesPaidMicro.get(k) ?? 0n) + feeMicro)
      await stateAfter(tx.height)
      return { code: tx.code, log: tx.reason }
    },
    // The height whose resulting state the API proves (a proof at H is the state after H - 1).
    height: async () => (await client.status()).height - 1,
    waitForHeight: stateAfter,
    balance: async (address) => BigInt((await client.account(encodeAddress(address)))?.balance ?? '0'),
    async agreement(id) {
      const terms = await readState(agreementModuleKey(agreementKeys.terms(id)), agreementTermsSchema)
      const state = await readState(agreementModuleKey(agreementKeys.state(id)), agreementStateSchema)
      return terms === undefined || state === undefined ? undefined : { ...terms, ...state }
    },
    async agreementIdsOf(party) {
      const ids: number[] = []
      for await (const a of client.all((page) => client.agreements({ party: encodeAddress(party), ...page }))) ids.push(Number(a.id))
      return ids
    },
    async channelIdsOf(party) {
      const ids: Uint8Array[] = []
      for await (const c of client.all((page) => client.channels({ party: encodeAddress(party), ...page })))
        ids.push(Uint8Array.from(Buffer.from(c.id, 'hex')))
      return ids
    },
  }
}
