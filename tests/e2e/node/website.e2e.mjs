// A visitor in headless Chromium on a website that loads @segment/analytics-next pointed at
// Tidings (cdnURL), on an allowed origin and then on one that is not allowed.
// Env: CHROMIUM, UI_DIR (for playwright-core), SITE_URL, OTHER_URL, TIDINGS_URL.
// Prints one JSON line: what each page saw.
import { createRequire } from 'node:module'

const require = createRequire(`${process.env.UI_DIR}/package.json`)
const { chromium } = require('playwright-core')

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM })
const result = {}
try {
  for (const [name, base] of [['allowed', process.env.SITE_URL], ['refused', process.env.OTHER_URL]]) {
    const context = await browser.newContext()
    const page = await context.newPage()
    const seen = { requests: [], thirdParty: [], errors: [], console: [] }
    page.on('request', (r) => { if (r.url().startsWith(process.env.TIDINGS_URL)) seen.requests.push(`${r.method()} ${new URL(r.url()).pathname}`) })
    page.on('request', (r) => { if (new URL(r.url()).hostname !== '127.0.0.1') seen.thirdParty.push(r.url()) })
    page.on('pageerror', (e) => seen.errors.push(String(e)))
    page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`))
    await page.goto(`${base}/landing.html?utm_source=news&utm_medium=email&utm_campaign=spring`)
    // The page records the outcome of its three calls in window.sent (see landing.html).
    seen.outcome = await page.waitForFunction(() => window.sent, null, { timeout: 30000 })
      .then((h) => h.jsonValue())
      .catch((e) => `no outcome: ${e}`)
    result[name] = seen
    await context.close()
  }
} finally {
  await browser.close()
}
console.log(JSON.stringify(result))
