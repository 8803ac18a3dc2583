// A visitor in headless Chromium on a website with analytics-next and an embedded Tidings
// form: browses, submits the form (first with a bad email and hostile text), comes back on
// a second visit and submits the fields it is asked then.
// Env: CHROMIUM, UI_DIR (for playwright-core), SITE_URL, HOSTILE, EMAIL.
// Prints one JSON line: what was seen.
import { createRequire } from 'node:module'

const require = createRequire(`${process.env.UI_DIR}/package.json`)
const { chromium } = require('playwright-core')

const hostile = process.env.HOSTILE
const seen = { dialogs: [], errors: [], csp: [], visits: [] }
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM })
try {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.on('dialog', async (d) => { seen.dialogs.push(d.message()); await d.dismiss() })
  page.on('pageerror', (e) => seen.errors.push(String(e)))
  page.on('console', (m) => { if (/Content Security Policy|Refused/.test(m.text())) seen.csp.push(m.text()) })

  // Browse first, tracked by analytics-next.
  await page.goto(`${process.env.SITE_URL}/pricing.html?utm_source=news&utm_medium=email&utm_campaign=spring`)
  await page.waitForFunction(() => window.sent, null, { timeout: 30000 })

  for (const visit of [1, 2]) {
    await page.goto(`${process.env.SITE_URL}/contact.html`)
    const frame = page.frameLocator('iframe[title="Contact us"]')
    await frame.locator('button[type=submit]').waitFor({ timeout: 30000 })
    const asked = await frame.locator('form label').evaluateAll((ls) => ls.filter((l) => !l.closest('.hp')).map((l) => l.getAttribute('for')))
    const record = { asked }
    if (visit === 1) {
      // A bad email and hostile text: the form says why, keeps the text as text.
      await frame.getByLabel('Email').fill('not-an-email')
      await frame.getByLabel('First name').fill(hostile)
      await frame.getByLabel('Send me the monthly newsletter').check()
      await frame.getByRole('button', { name: 'Send' }).press('Enter')
      await frame.locator('[role=alert]').waitFor({ timeout: 30000 })
      record.alert = await frame.locator('[role=alert]').innerText()
      record.keptFirstName = await frame.getByLabel('First name').inputValue()
      record.emailInvalid = await frame.getByLabel('Email').getAttribute('aria-invalid')
      await frame.getByLabel('Email').fill(process.env.EMAIL)
      await frame.getByLabel('Send me the monthly newsletter').check()
      // Keyboard only: the button is reached and pressed without a mouse.
      await frame.getByRole('button', { name: 'Send' }).focus()
      await page.keyboard.press('Enter')
    } else {
      await frame.getByLabel('Email').fill(process.env.EMAIL)
      await frame.getByLabel('Company').fill(hostile)
      await frame.getByRole('button', { name: 'Send' }).click()
    }
    await frame.getByText('Thanks, we will be in touch.').waitFor({ timeout: 30000 })
    record.thanked = true
    seen.visits.push(record)
  }
  await context.close()
} finally {
  await browser.close()
}
console.log(JSON.stringify(seen))
