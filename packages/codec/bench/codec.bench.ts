import { measure, report, type BenchRow } from '@terrane/bench'
import { decode, encode, t } from '../src/index.ts'

// Shapes close to a transfer transaction and a block of them.
const tx = t.struct({
  body: t.struct({
    chainId: t.string({ bytesMax: 64 }),
    sender: t.bytes({ length: 20 }),
    nonce: t.uint(),
    fee: t.u64(),
    expiryHeight: t.uint(),
    messages: t.array(t.struct({ type: t.literal('transfer'), to: t.bytes({ length: 20 }), amount: t.u64() }), { lengthMax: 16 }),
  }),
  signatures: t.array(t.struct({ publicKey: t.bytes({ length: 32 }), signature: t.bytes({ length: 64 }) }), { lengthMax: 16 }),
})
const block = t.struct({ height: t.uint(), txs: t.array(t.bytes({ lengthMax: 65536 }), { lengthMax: 100_000 }) })

const sampleTx = {
  body: {
    chainId: 'terrane-devnet',
    sender: new Uint8Array(20).fill(1),
    nonce: 42,
    fee: 1000n,
    expiryHeight: 1_000_000,
    messages: [{ type: 'transfer' as const, to: new Uint8Array(20).fill(2), amount: 123_456_789n }],
  },
  signatures: [{ publicKey: new Uint8Array(32).fill(3), signature: new Uint8Array(64).fill(4) }],
}
const txBytes = encode(tx, sampleTx)
const sampleBlock = { height: 10, txs: Array.from({ length: 1000 }, () => txBytes) }
const blockBytes = encode(block, sampleBlock)

const rows: BenchRow[] = []
const txEnc = measure(() => {
  for (let i = 0; i < 100; i++) encode(tx, sampleTx)
  return 100
}).opsPerSecond
rows.push({
  name: `encode transfer tx (${txBytes.length} B)`,
  value: txEnc,
  unit: 'ops/s',
  note: `${((txEnc * txBytes.length) / 1e6).toFixed(1)} MB/s`,
})
const txDec = measure(() => {
  for (let i = 0; i < 100; i++) decode(tx, txBytes)
  return 100
}).opsPerSecond
rows.push({
  name: `strict decode transfer tx (${txBytes.length} B)`,
  value: txDec,
  unit: 'ops/s',
  note: `${((txDec * txBytes.length) / 1e6).toFixed(1)} MB/s`,
})
const blkEnc = measure(() => (encode(block, sampleBlock), 1)).opsPerSecond
rows.push({
  name: `encode block of 1,000 txs (${(blockBytes.length / 1024).toFixed(0)} KiB)`,
  value: (blkEnc * blockBytes.length) / 1e6,
  unit: 'MB/s',
})
const blkDec = measure(() => (decode(block, blockBytes), 1)).opsPerSecond
rows.push({
  name: `strict decode block of 1,000 txs (${(blockBytes.length / 1024).toFixed(0)} KiB)`,
  value: (blkDec * blockBytes.length) / 1e6,
  unit: 'MB/s',
})
report('codec', rows)
