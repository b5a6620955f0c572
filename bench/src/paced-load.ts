// An open-loop HTTP load tool, run as its own process: `node paced-load.js <url> <rate> <seconds> [header=value]`.
// Requests leave on a fixed schedule (one every 1/rate s) and each latency is measured from the moment its
// request was due, so a slow server cannot hide its queueing by slowing the sender (coordinated omission).
// autocannon's `-R` instead sends each second's quota back to back at the start of the second, which
// measures a burst of `rate` requests, not a steady `rate` per second.
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { percentile } from './measure.js';

export interface PacedLoadResult {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Requests answered per second over the run. */
  rate: number;
  /** Non-2xx answers and errors. */
  failed: number;
}

export async function pacedLoad(
  url: string,
  rate: number,
  durationS: number,
  headers: Record<string, string> = {},
): Promise<PacedLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(rate * durationS);
  const latencies = new Float64Array(total);
  let answered = 0;
  let failed = 0;
  const start = performance.now();
  const dueAt = (i: number) => start + (i * 1000) / rate;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const done = (ok: boolean) => {
        latencies[answered++] = performance.now() - dueAt(i);
        if (!ok) failed++;
        resolve();
      };
      request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      })
        .on('error', () => done(false))
        .end();
    });
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  while (sent < total) {
    // send every request that is due by now, then sleep until the next one is
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) inFlight.push(one(sent++));
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt(sent) - performance.now())));
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.subarray(0, answered).sort(); // a typed array sorts by value
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted[sorted.length - 1] ?? 0,
    rate: answered / elapsedS,
    failed,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, rate, seconds, ...headerArgs] = process.argv.slice(2);
  const headers = Object.fromEntries(
    headerArgs.map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]),
  );
  const result = await pacedLoad(String(url), Number(rate), Number(seconds), headers);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
