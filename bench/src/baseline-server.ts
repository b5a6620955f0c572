// The REST bench's baselines, each in a process of its own like the API it is compared with:
// `node baseline-server.js constant <body>` answers every request with <body>;
// `node baseline-server.js redis <redis url> <key>` answers with the JSON of HGETALL <key>.
// Prints the port it listens on, then serves until killed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

const [mode, a = '', b = ''] = process.argv.slice(2);
const json = { 'content-type': 'application/json' };
const redis = mode === 'redis' ? new Redis(a) : undefined;
const server = createServer((_req, res) => {
  if (!redis) {
    res.writeHead(200, json).end(a);
    return;
  }
  redis.hgetall(b).then(
    (h) => res.writeHead(200, json).end(JSON.stringify({ count: 1, values: [h] })),
    () => res.writeHead(503).end(),
  );
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
