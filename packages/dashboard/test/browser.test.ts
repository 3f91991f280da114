/**
 * The dashboard in a real browser (Debian's chromium through playwright-core):
 * built with Vite, served by startDashboardServer, against (1) a one-validator
 * devnet node started in-process and (2) the API's MemoryBackend with seeded
 * devices. Screenshots of every page go to test-artifacts/dashboard/; with
 * TERRANE_UPDATE_SCREENSHOTS=1 the main ones are also copied to docs/screenshots/.
 */
import { after, afterEach, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { pino } from 'pino'
import { buildTransfer } from '@terrane/chain'
import { accountIdOfPublicKey, encodeAddress, seedSigner } from '@terrane/crypto'
import { sha256, toHex } from '@terrane/codec'
import { loadNodeConfig, startNode, writeDevnet, type TerraneNode } from '@terrane/node'
import { MemoryBackend, createApiServer, populateMemoryBackend, type ApiServer } from '@terrane/api'
import { cellToParent, getResolution } from 'h3-js'
import { buildDashboard, startDashboardServer, type DashboardServer } from '../src/index.ts'

const repoRoot = join(import.meta.dirname, '..', '..', '..')
const artifactsDir = join(repoRoot, 'test-artifacts', 'dashboard')
const screenshotsDir = join(repoRoot, 'docs', 'screenshots')
const isUpdatingScreenshots = process.env.TERRANE_UPDATE_SCREENSHOTS === '1'
/** Pages whose screenshots illustrate the README. */
const mainPages = new Set(['network', 'blocks', 'block', 'tx', 'account', 'map', 'map-cell', 'device', 'map-phone'])
const timeoutMs = 20_000

let buildDir = ''
/** The page to photograph if a test fails (test-artifacts/dashboard/failure-*.png). */
let failurePage: Page | undefined
let browser: Browser | undefined

async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(artifactsDir, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  if (isUpdatingScreenshots && mainPages.has(name)) await copyFile(file, join(screenshotsDir, `${name}.png`))
}

async function newPage(width = 1280, height = 860): Promise<Page> {
  assert.ok(browser !== undefined)
  const page = await browser.newPage({ viewport: { width, height }, colorScheme: 'dark' })
  page.setDefaultTimeout(timeoutMs)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('close', () => assert.deepEqual(errors, [], 'uncaught errors in the page'))
  return page
}

async function search(page: Page, query: string): Promise<void> {
  await page.fill('#search-input', query)
  await page.press('#search-input', 'Enter')
}

async function headerHeight(page: Page): Promise<number> {
  const text = (await page.getByTestId('height').textContent()) ?? ''
  return Number(text.replace('#', ''))
}

before(async () => {
  await mkdir(artifactsDir, { recursive: true })
  if (isUpdatingScreenshots) await mkdir(screenshotsDir, { recursive: true })
  buildDir = await mkdtemp(join(tmpdir(), 'terrane-dashboard-'))
  await buildDashboard({ outDir: buildDir })
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterEach(async (t) => {
  // A passing test closes its page; one left open failed part-way.
  if (failurePage !== undefined && !failurePage.isClosed())
    await failurePage.screenshot({ path: join(artifactsDir, `failure-${t.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true })
  failurePage = undefined
})

after(async () => {
  await browser?.close()
  await rm(buildDir, { recursive: true, force: true })
})

test('against a one-validator devnet node: live network and blocks, block details, search by height, hash and address', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'terrane-dashboard-node-'))
  let node: TerraneNode | undefined
  let server: DashboardServer | undefined
  try {
    const layout = await writeDevnet({ dir, validators: 1, genesisTimeMs: Date.now(), basePort: 0 })
    const home = (layout.nodes[0] as { home: string }).home
    const config = await loadNodeConfig(home, { p2p: { listen: '/ip4/127.0.0.1/tcp/0' }, api: { port: 0 } })
    node = await startNode({ config, logger: pino({ level: 'silent' }) })
    server = await startDashboardServer({ apiUrl: node.apiUrl, dir: buildDir })
    const page = await newPage()
    failurePage = page

    // Network: live height from the WebSocket, one validator with all the voting power.
    await page.goto(`${server.url}/#/`)
    await page.waitForFunction(() => /#\d+/.test(document.querySelector('[data-testid=height]')?.textContent ?? ''))
    const first = await headerHeight(page)
    await page.waitForFunction((h) => Number(document.querySelector('[data-testid=height]')?.textContent?.slice(1)) >= h + 2, first)
    assert.ok((await headerHeight(page)) >= first + 2, 'the height follows new blocks')
    await page.locator('#validators-title').waitFor()
    assert.equal(await page.locator('section[aria-labelledby=validators-title] tbody tr').count(), 1)
    await page.getByText('100%').first().waitFor()
    await page.waitForFunction(() => document.querySelector('[data-testid=block-interval]')?.textContent !== '–')
    await screenshot(page, 'network')

    // A transfer from a faucet, submitted through the dashboard's origin (same path as the app's requests).
    const faucet = layout.faucets[0]
    assert.ok(faucet !== undefined)
    const recipient = encodeAddress(accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(7)).publicKey))
    const to = accountIdOfPublicKey(seedSigner(new Uint8Array(32).fill(7)).publicKey)
    const tx = buildTransfer({ chainId: layout.chainId, signer: faucet, to, amountMicro: 12_345n, nonce: 0 }, node.app.txBodySchema)
    const txHash = toHex(sha256(tx))
    const submitted = await fetch(`${server.url}/v1/txs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: toHex(tx) }),
    })
    assert.equal(submitted.status, 202)
    const deadline = Date.now() + timeoutMs
    let txHeight = 0
    while (txHeight === 0) {
      assert.ok(Date.now() < deadline, 'the transfer commits')
      const response = await fetch(`${server.url}/v1/txs/${txHash}`)
      if (response.ok) txHeight = ((await response.json()) as { height: number }).height
      else await new Promise((r) => setTimeout(r, 100))
    }

    // Blocks: the list is live (a newer block appears on top), and a click opens a block.
    await page.getByRole('link', { name: 'Blocks', exact: true }).click()
    const topRow = page.locator('[data-testid=blocks-table] tbody tr:first-child td:first-child a')
    const top = Number(((await topRow.textContent()) ?? '').slice(1))
    await page.waitForFunction(
      (h) => Number(document.querySelector('[data-testid=blocks-table] tbody tr td a')?.textContent?.slice(1)) > h,
      top,
    )
    await screenshot(page, 'blocks')
    await page.locator(`[data-testid=blocks-table] a[href="#/blocks/${txHeight}"]`).click()
    await page
      .getByTestId('block-height')
      .filter({ hasText: String(txHeight) })
      .waitFor()
    assert.equal(await page.locator(`a[href="#/txs/${txHash}"]`).count(), 1, 'the block lists the transfer')
    await screenshot(page, 'block')

    // Search by height.
    await search(page, '2')
    await page.waitForURL(/#\/blocks\/2$/)
    assert.equal(await page.getByTestId('block-height').textContent(), '2')

    // Search by transaction hash, then follow it to its block.
    await search(page, txHash)
    await page.waitForURL(new RegExp(`#/txs/${txHash}$`))
    await page.getByText('success').waitFor()
    assert.equal(await page.getByTestId('tx-block').textContent(), `#${txHeight}`)
    await screenshot(page, 'tx')
    await page.getByTestId('tx-block').click()
    await page.waitForURL(new RegExp(`#/blocks/${txHeight}$`))

    // Search by block hash: the same block.
    const blockHash = ((await (await fetch(`${server.url}/v1/blocks/${txHeight}`)).json()) as { header: { hash: string } }).header.hash
    await search(page, '2')
    await page.waitForURL(/#\/blocks\/2$/)
    await search(page, blockHash)
    await page.waitForURL(new RegExp(`#/blocks/${txHeight}$`))

    // Search by address: the recipient's balance.
    await search(page, recipient)
    await page.waitForURL(new RegExp(`#/accounts/${recipient}$`))
    assert.equal(await page.getByTestId('balance').textContent(), '0.012345 TRN')
    await screenshot(page, 'account')

    // The validator's own page (from the validator table).
    await page.goto(`${server.url}/#/`)
    await page.locator('section[aria-labelledby=validators-title] tbody tr a').first().click()
    await page.locator('#validator-title').waitFor()
    await page.getByText('bonded').first().waitFor()
    await screenshot(page, 'validator')

    // An unknown query says so instead of navigating.
    await search(page, 'no such thing!')
    await page.getByText('Nothing matches').waitFor()
    await page.close()
  } finally {
    await server?.close()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  }
})

test('against the API memory backend with seeded devices: map, cell, device, block, search by device id, keyboard and phone width', async () => {
  const backend = new MemoryBackend()
  const population = populateMemoryBackend(backend, { seed: 7 })
  let api: ApiServer | undefined
  let server: DashboardServer | undefined
  try {
    api = await createApiServer({ backend }, { rateLimit: false, hasDocs: false })
    server = await startDashboardServer({ apiUrl: await api.start({ port: 0 }), dir: buildDir })
    const page = await newPage()
    failurePage = page

    // Coverage map: every device, grouped in its cells.
    await page.goto(`${server.url}/#/map`)
    assert.equal(await page.getByTestId('device-count').textContent(), String(population.devices.length))
    assert.equal(await page.getByTestId('cell-count').textContent(), String(new Set(population.devices.map((d) => d.h3Cell)).size))
    await page.waitForFunction(() => (document.querySelector('.land')?.getAttribute('d') ?? '').length > 0)
    // Zoomed out to the world, the cells merge into one coarse cell holding every device.
    await page.getByRole('button', { name: 'World' }).click()
    await page.waitForFunction(() => document.querySelectorAll('[data-cell]').length === 1)
    assert.match((await page.locator('[data-cell]').getAttribute('aria-label')) ?? '', new RegExp(`: ${population.devices.length} devices`))
    await page.getByRole('button', { name: 'Fit devices' }).click()
    await screenshot(page, 'map')

    // Click a cell: its devices are listed. The map draws cells at a resolution fitting the zoom.
    const resolution = Number(await page.getByTestId('coverage-map').getAttribute('data-resolution'))
    const asserted = population.cells[0] as string
    const cell = getResolution(asserted) > resolution ? cellToParent(asserted, resolution) : asserted
    const inCell = population.devices.filter((d) => d.h3Cell === cell || cellToParent(d.h3Cell, resolution) === cell).map((d) => d.id)
    await page.locator(`[data-cell="${cell}"]`).click()
    await page.locator('#cell-title').filter({ hasText: cell }).waitFor()
    assert.equal(await page.locator('[data-testid=cell-devices] li').count(), inCell.length)
    assert.match(page.url(), new RegExp(`#/map\\?cell=${cell}$`))
    await screenshot(page, 'map-cell')

    // Quality colouring reads the latest epoch's proofs.
    await page.getByRole('radio', { name: 'Quality' }).click()
    assert.equal(await page.getByRole('radio', { name: 'Quality' }).getAttribute('aria-checked'), 'true')

    // From the cell to a device: attestation, proofs chart, rewards with explanations.
    const deviceId = inCell[0] as string
    await page.locator(`[data-testid=cell-devices] a[href="#/devices/${deviceId}"]`).click()
    await page.getByTestId('attestation').filter({ hasText: 'verified' }).waitFor()
    await page.locator('svg[aria-label="Proofs per epoch"]').waitFor()
    await page.locator('svg[aria-label="Rewards per epoch, by component"]').waitFor()
    const rewards = (await (await fetch(`${server.url}/v1/devices/${deviceId}/rewards`)).json()) as { items: unknown[] }
    assert.equal(await page.locator('section[aria-labelledby=rewards-title] tbody tr').count(), rewards.items.length)
    await page.getByText('agr-1').waitFor()
    await screenshot(page, 'device')

    // From the device to a block.
    await page.getByTestId('registered-block').click()
    await page.getByTestId('block-height').filter({ hasText: '1' }).waitFor()

    // Search by device id (one with a rejected attestation).
    const rejected = population.devices.find((d) => d.attestation.status === 'rejected')
    assert.ok(rejected !== undefined)
    await search(page, rejected.id)
    await page.waitForURL(new RegExp(`#/devices/${rejected.id}$`))
    await page.getByTestId('attestation').filter({ hasText: 'rejected' }).waitFor()
    await page.getByText(rejected.attestation.reason).waitFor()

    // Keyboard: Tab reaches the cells, Enter selects one.
    await page.goto(`${server.url}/#/map`)
    const other = await page.locator('[data-cell]').nth(1).getAttribute('data-cell')
    assert.ok(other !== null)
    await page.getByTestId('coverage-map').focus()
    let focusedCell: string | null = null
    for (let i = 0; i < 10 && focusedCell !== other; i++) {
      await page.keyboard.press('Tab')
      focusedCell = await page.evaluate(() => document.activeElement?.getAttribute('data-cell') ?? null)
    }
    assert.equal(focusedCell, other, 'Tab moves through the cells')
    await page.keyboard.press('Enter')
    await page.locator('#cell-title').filter({ hasText: other }).waitFor()
    // Keyboard zoom: three steps of 1.5x move the scale bar past at least one of its 1-2-5 steps.
    const scaleBefore = await page.locator('.scale-bar text').textContent()
    await page.getByTestId('coverage-map').focus()
    for (let i = 0; i < 3; i++) await page.keyboard.press('+')
    await page.waitForFunction((label) => document.querySelector('.scale-bar text')?.textContent !== label, scaleBefore)
    await page.close()

    // Account of a device owner: balance, devices.
    const accountPage = await newPage()
    const owner = (population.devices[0] as { owner: string }).owner
    await accountPage.goto(`${server.url}/#/accounts/${owner}`)
    await accountPage.locator('#devices-title').waitFor()
    assert.equal(
      await accountPage.locator('section[aria-labelledby=devices-title] li').count(),
      population.devices.filter((d) => d.owner === owner).length,
    )
    await screenshot(accountPage, 'account-devices')
    await accountPage.close()

    // Phone width: nothing wider than the screen, on the map and the network pages.
    const phone = await newPage(390, 844)
    for (const [route, name] of [
      ['#/map', 'map-phone'],
      ['#/', 'network-phone'],
      [`#/devices/${deviceId}`, 'device-phone'],
    ] as const) {
      await phone.goto(`${server.url}/${route}`)
      await phone.locator('main h1').waitFor()
      await phone.waitForLoadState('networkidle')
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `${route} fits a phone screen (overflow ${overflow}px)`)
      await screenshot(phone, name)
    }
    await phone.close()
  } finally {
    await server?.close()
    await api?.stop()
  }
})
