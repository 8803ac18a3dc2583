// Sends an identify and a track through a real Node analytics client, then flushes.
// Usage: node send.mjs segment|rudder HOST WRITE_KEY
import { Analytics as Segment } from '@segment/analytics-node'
import Rudder from '@rudderstack/rudder-sdk-node'

const [which, host, key] = process.argv.slice(2)
const user = `${which}-node-1`
const traits = { email: `${which}@example.com`, consent: { email: 'subscribed' } }

if (which === 'segment') {
  const client = new Segment({ writeKey: key, host, flushAt: 1, maxRetries: 0 })
  client.on('error', (err) => { console.error(err); process.exitCode = 1 })
  client.identify({ userId: user, traits })
  client.track({ userId: user, event: 'Signed Up', properties: { source: 'node' } })
  await client.closeAndFlush({ timeout: 10000 })
} else {
  const client = new Rudder(key, { dataPlaneUrl: host, flushAt: 1, maxRetries: 0, logLevel: 'error' })
  await new Promise((resolve) => client.identify({ userId: user, traits }, resolve))
  await new Promise((resolve) => client.track({ userId: user, event: 'Signed Up', properties: { source: 'node' } }, resolve))
  await client.flush()
}
