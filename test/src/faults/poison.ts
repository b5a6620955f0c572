// Poison: malformed payloads on MQTT and on every fabric stream a worker reads, in the middle of real traffic.
import { jetstream } from '@nats-io/jetstream';
import mqtt from 'mqtt';
import { busway, EventTypes } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import type { Check, Scenario } from './scenario.js';
import { sleep } from './scenario.js';
import { SITE, STACK_WORKERS } from './stack.js';

/** Not protobuf at all: field 31 with wire type 7, which does not exist. */
const GARBAGE = Uint8Array.from([0xff, 0xff, 0xff, 0x01]);
/** A length-delimited field that claims 16 bytes and has 1. */
const TRUNCATED = Uint8Array.from([0x0a, 0x10, 0x01]);

/** What is sent where, and the dead letters each worker must write for it. */
const FABRIC_POISON = [
  { subject: 'raw.v1.samples.sparkplug.poison', type: EventTypes.SampleBatch, data: GARBAGE },
  {
    subject: 'raw.v1.samples.sparkplug.poison',
    type: 'busway.v1.NotAType',
    data: busway.v1.SampleBatch.encode({ samples: [{ pointId: 'poison:x:y', doubleValue: 1 }] }).finish(),
  },
  { subject: `norm.v1.samples.${SITE}.h1.r1.poison`, type: EventTypes.SampleBatch, data: TRUNCATED },
  { subject: `ordered.v1.samples.${SITE}.h1.r1.poison`, type: EventTypes.SampleBatch, data: GARBAGE },
];

export function poison(): Scenario {
  return {
    name: 'poison',
    title: 'malformed Sparkplug on MQTT; undecodable and mistyped payloads on RAW, NORM and ORDERED',
    watch: 'UNS',
    quick: true,
    async inject({ stack, log }) {
      const faultAt = Date.now();
      const client = await mqtt.connectAsync(stack.broker.url, { clientId: 'busway-faults-poison' });
      for (const payload of [GARBAGE, TRUNCATED])
        await client.publishAsync(`spBv1.0/${SITE}-h1/DDATA/poison-gw/dev-1`, Buffer.from(payload), {
          qos: 1,
        });
      await client.endAsync();
      const js = jetstream(stack.nc);
      for (const [i, p] of FABRIC_POISON.entries()) {
        const id = `faults-poison-${i}`;
        await js.publish(p.subject, p.data, {
          msgID: id,
          headers: fabricHeaders({ type: p.type, source: '/busway/faults', id }),
        });
        await sleep(200);
      }
      log(`sent 2 malformed DDATA and ${FABRIC_POISON.length} poison fabric messages`);
      return {
        faultAt,
        notes: ['2 on MQTT, 2 on RAW, 1 on NORM, 1 on ORDERED (read by anomaly, fanout and history)'],
        expectedDeadLetters: {
          'dlq.v1.sparkplug-decode': 2,
          'dlq.v1.normalizer': 2,
          'dlq.v1.correlator': 1,
          'dlq.v1.anomaly': 1,
          'dlq.v1.fanout': 1,
          // history reads ORDERED too (an ordered consumer of its own), when the pipeline runs it
          ...(STACK_WORKERS.includes('history') ? { 'dlq.v1.history': 1 } : {}),
        },
        checks: (ledger): Check[] => [
          {
            name: 'every dead letter names a code and a reason',
            ok: ledger.deadLetters.every((d) => d.code !== '' && d.reason.length > 5),
            detail: ledger.deadLetters.map((d) => `${d.subject}: ${d.code}`).join('; ') || 'none',
          },
        ],
      };
    },
  };
}
