import { createSocket, type Socket } from 'node:dgram';
import snmp from 'net-snmp';
import { nowNs } from '@busway/proto';
import type { Logger, WorkerRuntime } from '@busway/runtime';
import type { IngestSnmpConfig } from './config.js';
import { STAGE } from './cycle.js';
import { publishSamples, publishSnmpDeadLetter, untilStored } from './publish.js';
import { userOf } from './session.js';
import type { Summaries } from './summaries.js';
import { trapOutgoing, undecodableOutgoing, type Arrival, type TrapOutgoing } from './trap-message.js';

const RETRY_MS = 500;
const MAX_BACKOFF_MS = 10_000;

/** Resolves once the socket is bound; rejects with the bind error (EADDRINUSE, EACCES on 162). */
function bound(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('listening', () => resolve());
    socket.once('error', reject);
  });
}

/**
 * Receives v1, v2c and v3 (authPriv) traps and informs, and publishes each as a SampleBatch (or a dead letter).
 * UDP cannot push back: while JetStream is slow, traps wait in a bounded queue, published one at a time in
 * arrival order; beyond `maxPendingTraps` they are dropped, counted and logged.
 */
export class TrapReceiver {
  private receiver?: snmp.Receiver;
  private readonly queue: TrapOutgoing[] = [];
  private draining?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly log: Logger;
  private lastSequence = 0;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestSnmpConfig,
    private readonly summaries: Summaries,
  ) {
    this.log = rt.log.child({ component: 'trap-receiver' });
  }

  async start(): Promise<void> {
    const { trapPort: port, trapAddress: address, trapCommunity, trapUsers } = this.config;
    const sockets: Socket[] = [];
    // net-snmp does not say when its socket is bound: this dgram wrapper lets start() wait for it
    const dgramModule = {
      createSocket: (type: 'udp4' | 'udp6') => {
        const socket = createSocket(type);
        sockets.push(socket);
        return socket;
      },
    };
    this.receiver = snmp.createReceiver({ port, address, dgramModule }, (err, n) => this.onReceive(err, n));
    const authorizer = this.receiver.getAuthorizer();
    authorizer.addCommunity(trapCommunity);
    for (const user of trapUsers) authorizer.addUser(userOf(user));
    try {
      await Promise.all(sockets.map(bound));
    } catch (err) {
      this.receiver.close();
      this.receiver = undefined;
      throw err;
    }
    this.log.info({ address, port, v3Users: trapUsers.length }, 'receiving SNMP traps');
  }

  private arrival(): Arrival {
    const atMs = Date.now();
    this.lastSequence = Math.max(atMs, this.lastSequence + 1);
    return { atMs, sequence: this.lastSequence, ingestTimeNs: nowNs() };
  }

  private onReceive(err: snmp.ReceiverError | null, n: snmp.Notification | null): void {
    try {
      if (err) this.onError(err);
      else if (n) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'trap-received' });
        this.enqueue(trapOutgoing(n, this.config.targets, this.arrival()), n.rinfo.address);
      }
    } catch (e) {
      // a bug must not take the receiver down with it
      this.log.error({ err: e }, 'trap handling failed unexpectedly');
    }
  }

  private onError(err: snmp.ReceiverError): void {
    const from = err.rinfo?.address;
    if (from === undefined) {
      this.log.error({ err: err.message }, 'trap receiver socket error');
    } else if (err.name === 'ProcessingError' && err.buffer) {
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'trap-received' });
      const why = err.error?.message ?? err.message;
      this.enqueue(undecodableOutgoing(from, err.buffer, why, this.arrival()), from);
    } else {
      // wrong community or user, bad digest: the message may name the community, so it is not logged
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'trap-rejected' });
      this.summaries.rejectedTraps.add(`${from} (${err.name})`);
    }
  }

  private enqueue(out: TrapOutgoing, from: string): void {
    if (this.queue.length >= this.config.maxPendingTraps || this.abort.signal.aborted) {
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'trap-dropped' });
      this.summaries.droppedTraps.add(from);
      return;
    }
    this.queue.push(out);
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0 && !this.abort.signal.aborted) this.kick();
    });
  }

  /** Publishes the queue in order; each trap leaves it only once JetStream has it. */
  private async drain(): Promise<void> {
    for (let out = this.queue[0]; out; out = this.queue[0]) {
      const stored = await untilStored(() => this.publish(out), {
        intervalMs: RETRY_MS,
        maxBackoffMs: MAX_BACKOFF_MS,
        signal: this.abort.signal,
        onFailure: () => {
          this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'publish-failed' });
          this.summaries.publishFailures.add('traps');
        },
      });
      if (!stored) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'trap-dropped' }, this.queue.length);
        this.log.warn(
          { dropped: this.queue.length },
          'stopping: dropped traps JetStream did not acknowledge',
        );
        this.queue.length = 0;
        return;
      }
      this.queue.shift();
    }
  }

  private async publish(out: TrapOutgoing): Promise<void> {
    if (out.kind === 'samples') {
      await publishSamples(this.rt, out.subject, out.batch, out.envelope);
      return;
    }
    await publishSnmpDeadLetter(this.rt, out.letter);
    this.summaries.deadLetters.add(out.letter.reason.code);
  }

  /** Stops receiving, then publishes what is queued; a publish that fails while stopping drops the rest. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.receiver) return resolve();
      this.receiver.close(() => resolve());
    });
    this.abort.abort();
    await this.draining;
  }
}
