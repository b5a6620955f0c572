import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';

/** One recorded message: when it was sent (ms after the first), where, and what. */
export interface Recorded {
  offsetMs: number;
  topic: string;
  payload: string;
}

const UNITS_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
};

/** A Go-style duration as the capture writes offsets: `0s`, `3.4731ms`, `1m39.3675441s`. */
export function parseOffsetMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`bad offset '${text}'`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS_MS[p[2] ?? ''] ?? NaN), 0);
}

/** Splits one CSV line of `offset,topic,payload` (RFC 4180 quoting: "" inside quotes is a quote). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** The real DSX Exchange capture shipped with the bridge (Apache-2.0, see fixtures/README.md). */
export const EXEMPLAR_CAPTURE = fileURLToPath(new URL('../fixtures/dsx_exemplar.csv', import.meta.url));

/** Reads a DSX replay capture (`offset,topic,payload`). */
export function readCapture(path: string): Recorded[] {
  const [header, ...lines] = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  if (header !== 'offset,topic,payload') throw new Error(`${path}: expected the header offset,topic,payload`);
  return lines.map((l) => {
    const [offset, topic, payload] = fields(l);
    return { offsetMs: parseOffsetMs(offset ?? ''), topic: topic ?? '', payload: payload ?? '' };
  });
}

/**
 * Publishes a capture at its recorded offsets divided by `speed`, with `{{timestamp_ms}}` filled with the
 * real time of sending. Metadata is published retained, as the BMS does. Resolves with the messages sent.
 */
export async function replay(
  client: MqttClient,
  capture: Recorded[],
  speed = 1,
  signal?: AbortSignal,
): Promise<Recorded[]> {
  const start = Date.now();
  const sent: Recorded[] = [];
  for (const r of capture) {
    if (signal?.aborted) break;
    const due = start + r.offsetMs / speed;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const payload = r.payload.replaceAll('{{timestamp_ms}}', String(Date.now()));
    await client.publishAsync(r.topic, payload, { qos: 1, retain: r.topic.includes('/Metadata/') });
    sent.push({ ...r, payload });
  }
  return sent;
}
