// A separate process that publishes the bench's Sparkplug NDATA payloads, so its CPU is not the bridge's.
// Usage: node mqtt-publisher.js <broker url> <topic> <qos 0|1> <messages> <metrics per message> [first timestamp ms]
import mqtt from 'mqtt';
import { ndataPayloads } from './sparkplug-payloads.js';

const [url, topic, qos, messages, metrics, t0] = process.argv.slice(2);
if (!url || !topic) throw new Error('usage: mqtt-publisher <url> <topic> <qos> <messages> <metrics>');
const payloads = ndataPayloads(Number(messages), Number(metrics), t0 ? Number(t0) : undefined);
const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}` });
const level = qos === '0' ? 0 : 1;
process.stdout.write('publishing\n'); // the bench times from here: making the payloads is not ingest
// in windows: every pending QoS 0 write waits on the socket's drain, and thousands at once flood its listeners
for (let i = 0; i < payloads.length; i += 256)
  await Promise.all(payloads.slice(i, i + 256).map((p) => client.publishAsync(topic, p, { qos: level })));
await client.endAsync();
