// Publishing fuzz input onto the fabric and reading back what each stage made of it.
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { busway, EventTypes } from '@busway/proto';
import { fabricHeaders, Hdr } from '@busway/runtime';
import { waitFor } from '@busway/testkit';
import { readStream } from '../streams.js';
import type { FuzzMessage } from './fuzz-inputs.js';

export type Stored = Awaited<ReturnType<typeof readStream>>[number];

/** What one stage dead-lettered for one input message. */
export interface DeadLettered {
  /** `<code>: <reason>` of each dead letter. */
  codes: string[];
  samples: busway.v1.ISample[];
}

/** Samples of the messages a stage reads as sample batches (a dead letter keeps its original's type). */
export function samplesOf(msgs: readonly Stored[]): busway.v1.ISample[] {
  return msgs.flatMap((m) => {
    if (m.type !== EventTypes.SampleBatch) return [];
    try {
      return busway.v1.SampleBatch.decode(m.data).samples;
    } catch {
      return [];
    }
  });
}

export class FabricFuzzer {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly seed: number,
  ) {}

  /** Publishes each message under a unique id (ce-id = Nats-Msg-Id), or with no CloudEvents header at all. */
  async publishAll(prefix: string, msgs: readonly FuzzMessage[]): Promise<Map<string, FuzzMessage>> {
    const js = jetstream(this.nc);
    const byId = new Map<string, FuzzMessage>();
    for (const [i, m] of msgs.entries()) {
      const id = `fuzz-${this.seed}-${prefix}-${i}`;
      byId.set(id, m);
      const h =
        m.type === undefined ? headers() : fabricHeaders({ type: m.type, source: '/busway/fuzz', id });
      await js.publish(m.subject, m.data, { headers: h, msgID: id });
    }
    return byId;
  }

  /** Every durable consumer caught up, and no stream grew for 5 s (the correlator releases on idle). */
  async drained(timeoutMs = 60_000): Promise<void> {
    let last = '';
    let since = Date.now();
    let busy: string[] = [];
    try {
      await waitFor(
        'every stage to finish the fuzz input',
        async () => {
          const seqs: number[] = [];
          for (const s of ['NORM', 'ORDERED', 'UNS', 'ANOMALIES', 'DLQ'])
            seqs.push((await this.jsm.streams.info(s)).state.last_seq);
          if (seqs.join() !== last) [last, since] = [seqs.join(), Date.now()];
          busy = [];
          for (const s of ['RAW', 'NORM', 'ORDERED'])
            for await (const c of this.jsm.consumers.list(s))
              // durable ones only: the ordered consumers that read the streams back are ephemeral
              if (c.config.durable_name && (c.num_pending > 0 || c.num_ack_pending > 0))
                busy.push(`${s}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged`);
          return busy.length === 0 && Date.now() - since > 5000;
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}; still busy: ${busy.join('; ') || 'none (streams kept growing)'}`,
      );
    }
  }

  /**
   * The dead letters of one stage by the input they stand for: the original's ce-id, else its Nats-Msg-Id
   * (the dead letter's own id without the `dlq:<stage>:` prefix).
   */
  async deadLetters(stage: string): Promise<Map<string, DeadLettered>> {
    const out = new Map<string, DeadLettered>();
    const info = await this.jsm.streams.info('DLQ');
    for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
      const m = await this.jsm.streams.getMessage('DLQ', { seq });
      if (!m || m.subject !== `dlq.v1.${stage}`) continue;
      const stored: Stored = {
        subject: m.subject,
        data: m.data,
        type: m.header.get(Hdr.Type),
        msgId: m.header.get(Hdr.MsgId),
      };
      const id = m.header.get(Hdr.Id) || stored.msgId.replace(/^dlq:[^:]+:/, '');
      const entry = out.get(id) ?? { codes: [], samples: [] };
      entry.codes.push(`${m.header.get(Hdr.DlqCode)}: ${m.header.get(Hdr.DlqReason)}`);
      entry.samples.push(...samplesOf([stored]));
      out.set(id, entry);
    }
    return out;
  }

  read(stream: string, prefix?: string): Promise<Stored[]> {
    return readStream(this.nc, this.jsm, stream, prefix);
  }
}
