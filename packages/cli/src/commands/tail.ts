import { connectCli } from '../nats-connect.js';
import { decodeFabricMessage, formatLine } from '../decode.js';

export interface TailOptions {
  natsUrl: string;
  subject: string;
  json: boolean;
  /** Stop after this many objects. @default unlimited */
  count?: number;
  write?: (line: string) => void;
}

/** Subscribes to a subject (wildcards allowed) and prints every sample, event, incident or score in it. */
export async function tail(opts: TailOptions): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nc = await connectCli(opts.natsUrl, 'tail');
  const sub = nc.subscribe(opts.subject);
  const stop = () => sub.unsubscribe();
  process.once('SIGINT', stop);
  let printed = 0;
  try {
    for await (const msg of sub) {
      let objects;
      try {
        objects = decodeFabricMessage(msg.subject, msg.data, msg.headers);
      } catch (err) {
        objects = [
          { subject: msg.subject, error: `cannot decode: ${(err as Error).message}`, bytes: msg.data.length },
        ];
      }
      const room = opts.count === undefined ? objects.length : opts.count - printed;
      for (const o of objects.slice(0, room)) write(opts.json ? JSON.stringify(o) : formatLine(o));
      printed += Math.min(room, objects.length);
      // unsubscribing does not empty what is already queued: leave the loop too
      if (opts.count !== undefined && printed >= opts.count) break;
    }
  } finally {
    process.off('SIGINT', stop);
    await nc.close();
  }
  return printed;
}
