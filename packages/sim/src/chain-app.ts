import { accountIdOfPublicKey, seedSigner, type Signer } from '@terrane/crypto'
import { sha256 } from '@terrane/codec'
import { buildTransfer, createChainApp, defaultParams, MemoryChainStore, type ChainApp, type Genesis } from '@terrane/chain'
import type { Validator } from '@terrane/consensus'
import { simChainId, type SimAppDriver, type SimApp } from './sim.ts'

const utf8 = new TextEncoder()
/** Client accounts that send transfers during a run. */
const clientsCount = 8

/**
 * Drives the real state machine (@terrane/chain) in the simulator: each node has its own
 * in-memory ChainStore, kept on its simulated disk (committed state survives a crash;
 * staged writes are only ever made and committed within one simulated step). Clients send
 * signed transfers with sequential nonces.
 */
export function chainAppDriver(seed: number, chainId = simChainId): SimAppDriver {
  const clients: Signer[] = Array.from({ length: clientsCount }, (_, i) => seedSigner(sha256(utf8.encode(`sim-${seed}-client-${i}`))))
  const nonces = clients.map(() => 0)
  let genesis: Genesis | undefined
  const genesisOf = (validators: Validator[]): Genesis => {
    genesis ??= {
      chainId,
      // Short windows so that runs of a few dozen heights exercise them; a 3333 bps cap so that the
      // consensus powers stay those of the scenario whenever no validator exceeds a third.
      params: { ...defaultParams, powerCapBps: 3333, epochBlocks: 10, signedBlocksWindow: 20, minSignedBps: 0, evidenceAgeBlocksMax: 1000 },
      accounts: [
        ...validators.map((v) => ({ address: v.address, balanceMicro: BigInt(v.power) * 1_000_000n + 1_000_000_000n })),
        ...clients.map((c) => ({ address: accountIdOfPublicKey(c.publicKey), balanceMicro: 1_000_000_000_000n })),
      ],
      multisigAccounts: [],
      validators: validators.map((v) => ({
        operator: v.address,
        consensusKey: v.publicKey,
        selfStakeMicro: BigInt(v.power) * 1_000_000n,
        commissionBps: 500,
      })),
      modules: {},
    }
    return genesis
  }
  return {
    name: 'chain',
    create(disk, validators): SimApp {
      const slot = disk.app as { store?: MemoryChainStore }
      slot.store ??= new MemoryChainStore()
      const app: ChainApp = createChainApp({ genesis: genesisOf(validators), store: slot.store })
      return Object.assign(app, {
        isSlashed: (validator: Uint8Array) => {
          const record = app.validators().find((v) => Buffer.compare(v.consensusAddress, validator) === 0)
          return record?.isTombstoned === true
        },
      })
    },
    makeTx(seq, pick) {
      const i = pick(clientsCount)
      const signer = clients[i] as Signer
      const to = accountIdOfPublicKey((clients[(i + 1) % clientsCount] as Signer).publicKey)
      const nonce = nonces[i] ?? 0
      nonces[i] = nonce + 1
      return buildTransfer({ chainId, signer, nonce, to, amountMicro: BigInt(1 + (seq % 1000)) })
    },
  }
}
