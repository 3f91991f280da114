import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { createChainApp, type ChainApp, type ChainModule, type EmissionSink } from '@terrane/chain'
import { toHex } from '@terrane/codec'
import { accountIdOfPublicKey, createVerifierPool, seedSigner, type VerifierPool } from '@terrane/crypto'
import { createConsensus, PrivValidator, type Block, type Commit, type FinalizeBlockResponse } from '@terrane/consensus'
import { createP2PNode, type P2PNode } from '@terrane/p2p'
import { createApiServer, type ApiServerInit } from '@terrane/api'
import { nodeDevnetTimeouts, type NodeConfig } from './config.ts'
import { NodeApiBackend } from './api-backend.ts'
import { ConsensusDriver, systemDriverClock, type DriverClock } from './consensus/driver.ts'
import { ConsensusReactor } from './consensus/reactor.ts'
import { VerifiedSignatures } from './consensus/block-sync.ts'
import { readNodeGenesis, type NodeGenesis } from './genesis.ts'
import { readKeySeed } from './keys.ts'
import { Mempool } from './mempool/mempool.ts'
import { TxGossip } from './mempool/tx-gossip.ts'
import { DroppedTxs } from './mempool/dropped-txs.ts'
import { openChainStore, type NodeChainStore } from './chain-store.ts'
import { BlockStore } from './storage/block-store.ts'
import { signerStateFile } from './storage/signer-state-file.ts'
import { WriteAheadLog } from './storage/wal.ts'
import { createNodeMetrics, type NodeMetrics } from './metrics.ts'
import { existsSync } from 'node:fs'
import { depinChainModules } from './depin/modules.ts'
import { startDepinService } from './depin/start.ts'
import type { DepinService } from './depin/service.ts'

/** Where a node keeps its files under its home directory. */
export function nodePaths(home: string) {
  return {
    genesis: join(home, 'genesis.json'),
    nodeKey: join(home, 'keys', 'node_key.json'),
    validatorKey: join(home, 'keys', 'validator_key.json'),
    data: join(home, 'data'),
    state: join(home, 'data', 'state'),
    blocks: join(home, 'data', 'blocks'),
    wal: join(home, 'data', 'consensus.wal'),
    signerState: join(home, 'data', 'signer_state'),
  }
}

export interface TerraneNodeInit {
  config: NodeConfig
  logger?: Logger
  /** Modules beyond the chain's core ones (devices, coverage, channels, agreements, ...). */
  modules?: readonly ChainModule[]
  emissionSinks?: readonly EmissionSink[]
  clock?: DriverClock
  /** API server options (keys, limits); the port and host come from `config.api`. */
  api?: ApiServerInit
}

/** Everything a running node holds; what the API, the CLI and tests use. */
export interface TerraneNode {
  /** Base URL of the HTTP API (REST /v1, GraphQL /graphql, WebSocket /v1/ws, /metrics). */
  readonly apiUrl: string
  readonly config: NodeConfig
  readonly genesis: NodeGenesis
  readonly app: ChainApp
  readonly driver: ConsensusDriver
  readonly mempool: Mempool
  /** Transactions that left the mempool without commit (reason, time): what `GET /v1/txs/:hash/status` reports. */
  readonly droppedTxs: DroppedTxs
  readonly blockStore: BlockStore
  readonly p2p: P2PNode
  readonly reactor: ConsensusReactor
  readonly metrics: NodeMetrics
  readonly logger: Logger
  /** The DePIN service (ingest, coverage verifier, simulated devices) when `mqtt.port >= 0`. */
  readonly depin?: DepinService
  /** This node's validator address (hex), or null for a full node. */
  readonly validatorAddress: string | null
  /** Submits a transaction from a local client: mempool, then gossip. */
  submitTx(tx: Uint8Array): ReturnType<TxGossip['submit']>
  /** Calls `listener` for every committed block; returns an unsubscribe function. */
  onBlock(listener: (block: Block, commit: Commit, results: FinalizeBlockResponse) => void): () => void
  /** Calls `listener` when consensus enters a new round or step; returns an unsubscribe function. */
  onRound(listener: (height: number, round: number, step: string) => void): () => void
  stop(): Promise<void>
}

export async function startNode(init: TerraneNodeInit): Promise<TerraneNode> {
  const { config } = init
  const logger = init.logger ?? pino({ level: config.logLevel, base: { node: config.moniker } })
  const paths = nodePaths(config.home)
  await mkdir(paths.data, { recursive: true })
  const genesis = await readNodeGenesis(paths.genesis)
  const nodeSeed = await readKeySeed(paths.nodeKey, 'terrane-node-key')
  const validatorSeed = existsSync(paths.validatorKey) ? await readKeySeed(paths.validatorKey, 'terrane-validator-key') : null
  const clock = init.clock ?? systemDriverClock
  const metrics = createNodeMetrics()
  const stops: Array<() => Promise<void> | void> = []
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop()
      } catch (err) {
        logger.error({ err }, 'Failed to stop a component')
      }
    }
  }

  try {
    // The state machine over the authenticated store.
    const store: NodeChainStore = await openChainStore(paths.state)
    stops.push(() => store.close())
    const pool: VerifierPool = createVerifierPool()
    stops.push(() => pool.close())
    const depinModules = depinChainModules(genesis.chain.modules)
    const appInit = {
      genesis: genesis.chain,
      store,
      verifier: pool,
      modules: [...depinModules.modules, ...(init.modules ?? [])],
      emissionSinks: [...depinModules.emissionSinks, ...(init.emissionSinks ?? [])],
    }
    const app = createChainApp(appInit)
    const { validators } = app.initChain()
    if (app.info().height === 0 && store.hasStaged()) await app.commit() // a fresh store: make genesis durable

    const blockStore = await BlockStore.open(paths.blocks)
    stops.push(() => blockStore.close())
    // Consensus replays stored blocks from genesis at every start, so it needs the
    // genesis validators and root, not the current ones the resumed app reports.
    let genesisRecord = await blockStore.genesis()
    if (genesisRecord === undefined) {
      genesisRecord = { validators, stateRoot: app.info().stateRoot }
      await blockStore.saveGenesis(genesisRecord)
    }
    const { wal, records, truncatedBytes } = await WriteAheadLog.open(paths.wal)
    stops.push(() => wal.close())
    if (truncatedBytes > 0) logger.warn({ truncatedBytes }, 'Cut a torn tail off the consensus WAL')

    const validatorAddress = validatorSeed === null ? null : accountIdOfPublicKey(seedSigner(validatorSeed).publicKey)
    const privval =
      validatorSeed === null
        ? null
        : new PrivValidator(seedSigner(validatorSeed), signerStateFile(paths.signerState), genesis.chain.chainId)
    // Block sync verifies commit signatures in batches on the worker pool; the reducer
    // then finds them here instead of verifying each one again on the main thread.
    const verifiedSignatures = new VerifiedSignatures()
    const consensus = createConsensus(
      {
        chainId: genesis.chain.chainId,
        address: validatorAddress,
        ...(config.consensus.isDevnetTiming ? nodeDevnetTimeouts : {}),
        ...(config.consensus.timeoutCommitMs === null ? {} : { timeoutCommitMs: config.consensus.timeoutCommitMs }),
        isCreatingEmptyBlocks: config.consensus.isCreatingEmptyBlocks,
      },
      { processProposal: (req) => app.processProposal(req), verify: verifiedSignatures.verify },
    )

    // Every tx the pool drops is remembered (bounded) so its submitter can learn why, instead of a 404,
    // and counted by the same reason for dashboards.
    const droppedTxs = new DroppedTxs({ onRecorded: (reason) => metrics.mempoolDroppedTotal.inc({ reason }) })
    const mempool = new Mempool(
      {
        check: (tx) => {
          const r = app.checkTx(tx)
          if (r.code !== 0 || r.sender === undefined || r.nonce === undefined || r.fee === undefined)
            return { ok: false, code: r.code, log: r.log }
          return { ok: true, sender: r.sender, nonce: r.nonce, fee: r.fee }
        },
        accountNonce: (sender) => app.account(sender).nonce,
        peek: (tx) => {
          try {
            const { body } = app.decodeTx(tx) // cached by identity: checkTx and execution reuse it
            return { sender: body.sender, nonce: body.nonce, fee: body.feeMicro }
          } catch {
            return undefined
          }
        },
      },
      {
        txsMax: config.mempool.txsMax,
        bytesMax: config.mempool.bytesMax,
        recheckTxsMax: config.mempool.recheckTxsMax,
        ...droppedTxs.mempoolHooks(() => clock.nowMs()),
      },
    )

    const p2p = await createP2PNode({
      privateKeySeed: nodeSeed,
      listenAddresses: [config.p2p.listen],
      bootstrapAddresses: config.p2p.bootstrap,
    })
    stops.push(() => p2p.stop())

    const blockListeners = new Set<(block: Block, commit: Commit, results: FinalizeBlockResponse) => void>()
    const roundListeners = new Set<(height: number, round: number, step: string) => void>()
    const reactor = new ConsensusReactor({
      p2p,
      // Called only after start, once `driver` below exists.
      driver: () => driver,
      blockStore,
      log: (message, context) => logger.debug(context ?? {}, message),
      chainId: genesis.chain.chainId,
      verifier: pool,
      verifiedSignatures,
    })
    let lastBlockTimeMs = 0
    const driver: ConsensusDriver = new ConsensusDriver(
      {
        consensus,
        app,
        mempool,
        blockStore,
        wal,
        privval,
        network: reactor,
        clock,
        log: (message, context) => logger.warn(context ?? {}, message),
        proposalTxsMax: config.consensus.proposalTxsMax,
        events: {
          onBlock: (block, commit, results) => {
            metrics.height.set(block.header.height)
            metrics.txsTotal.inc(block.txs.length)
            if (lastBlockTimeMs > 0) metrics.blockIntervalSeconds.observe((block.header.timeMs - lastBlockTimeMs) / 1000)
            lastBlockTimeMs = block.header.timeMs
            metrics.mempoolTxs.set(mempool.size)
            // A tx dropped here may still commit from another validator's pool: then it is committed, not dropped.
            droppedTxs.forgetCommitted(block.txs)
            logger.info(
              { height: block.header.height, txs: block.txs.length, hash: toHex(commit.blockHash).slice(0, 16) },
              'Committed block',
            )
            for (const listener of blockListeners) listener(block, commit, results)
          },
          onRound: (height, round, step) => {
            metrics.round.set(round)
            logger.debug({ height, round, step }, 'Entered step')
            for (const listener of roundListeners) listener(height, round, step)
          },
          onRejected: (reason, type) => metrics.consensusRejectedTotal.inc({ reason, event: type }),
        },
      },
      { validators: genesisRecord.validators, stateRoot: genesisRecord.stateRoot, timeMs: genesis.genesisTimeMs },
    )
    const gossip = new TxGossip(p2p, mempool)
    gossip.start()
    stops.push(() => gossip.stop())
    await reactor.start()
    stops.push(() => reactor.stop())
    await driver.start(records)
    stops.push(() => driver.stop())
    p2p.on('peer:connect', () => metrics.peers.set(p2p.peers().length))
    p2p.on('peer:disconnect', () => metrics.peers.set(p2p.peers().length))
    logger.info(
      {
        chainId: genesis.chain.chainId,
        height: driver.height,
        peerId: p2p.peerId,
        addresses: p2p.addresses(),
        validator: validatorAddress === null ? null : toHex(validatorAddress),
      },
      'Started node',
    )

    const node: TerraneNode = {
      apiUrl: '',
      config,
      genesis,
      app,
      driver,
      mempool,
      droppedTxs,
      blockStore,
      p2p,
      reactor,
      metrics,
      logger,
      validatorAddress: validatorAddress === null ? null : toHex(validatorAddress),
      submitTx: (tx) => {
        const result = gossip.submit(tx)
        metrics.mempoolTxs.set(mempool.size)
        return result
      },
      onBlock: (listener) => {
        blockListeners.add(listener)
        return () => blockListeners.delete(listener)
      },
      onRound: (listener) => {
        roundListeners.add(listener)
        return () => roundListeners.delete(listener)
      },
      stop: stopAll,
    }
    const depin = config.mqtt.port >= 0 ? await startDepinService(node, store, logger.child({ component: 'depin' })) : undefined
    if (depin !== undefined) stops.push(() => depin.stop())
    if (depin !== undefined) (node as { depin?: DepinService }).depin = depin
    const backend = new NodeApiBackend(node, store, logger, depin)
    await backend.start()
    const api = await createApiServer(
      { backend, registry: metrics.registry },
      {
        rateLimit: config.api.rateLimitRequestsMax === 0 ? false : { requestsMax: config.api.rateLimitRequestsMax, windowMs: 10_000 },
        ...init.api,
        ...(config.api.dashboardDir === null ? {} : { staticDir: config.api.dashboardDir }),
      },
    )
    const apiUrl = await api.start({ host: config.api.host, port: config.api.port })
    stops.push(() => api.stop())
    ;(node as { apiUrl: string }).apiUrl = apiUrl
    logger.info({ apiUrl }, 'Serving the API')
    return node
  } catch (err) {
    await stopAll()
    throw err
  }
}
