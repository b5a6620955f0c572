import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig } from '@busway/runtime';
import { freePort } from '@busway/testkit';

/** The demo's IT sources: the simulator serves them on these ports, and these bridges read them. */
export interface DemoSources {
  simulatorEnv: NodeJS.ProcessEnv;
  bridges: { name: string; env: NodeJS.ProcessEnv }[];
}

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** The first of `count` consecutive free loopback ports (the simulated rack BMCs take one each). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let p = first; p < first + count && free; p++) free = await canBind(p);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1`);
}

/**
 * Redfish BMCs (one per rack), a dcgm-exporter, a slurmrestd and an OpenADR VTN on the simulator, and the bridges
 * that read them: IT telemetry, the scheduler's jobs and the grid's signals reach the fabric through the same
 * bridges a real site runs. With the
 * scheduler API on, the simulator stops publishing its job events directly: the Slurm bridge is their source.
 */
export async function demoSources(env: NodeJS.ProcessEnv): Promise<DemoSources> {
  const sim = await import('@busway/simulator');
  const config = loadConfig(sim.SimulatorConfigSchema, { env, worker: 'simulator' });
  const plant = sim.buildPlant(config);
  const racks = plant.rows.reduce((n, row) => n + row.racks.length, 0);
  const [redfishPort, dcgmPort, slurmPort, vtnPort] = [
    await freePortRange(racks),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const token = config.schedulerToken;
  const site = env.BUSWAY_SITE ?? 'site';
  return {
    simulatorEnv: {
      BUSWAY_REDFISH_PORT: String(redfishPort),
      BUSWAY_DCGM_PORT: String(dcgmPort),
      BUSWAY_SLURM_PORT: String(slurmPort),
      BUSWAY_VTN_PORT: String(vtnPort),
    },
    bridges: [
      {
        name: 'ingest-redfish',
        env: { BUSWAY_ENDPOINTS: JSON.stringify(sim.redfishEndpointsOf({ ...config, redfishPort }, plant)) },
      },
      {
        name: 'ingest-dcgm',
        env: {
          BUSWAY_TARGETS: JSON.stringify([
            { id: 'sim', url: `http://127.0.0.1:${dcgmPort}/metrics`, pollIntervalMs: 5000 },
          ]),
        },
      },
      {
        name: 'ingest-scheduler',
        env: {
          BUSWAY_SLURM: JSON.stringify([
            { id: 'slurm', url: `http://127.0.0.1:${slurmPort}`, user: 'busway', token, pollIntervalMs: 500 },
          ]),
        },
      },
      {
        name: 'ingest-openadr',
        env: {
          BUSWAY_VTN_URL: `http://127.0.0.1:${vtnPort}`,
          BUSWAY_CLIENT_ID: config.vtnClientId,
          BUSWAY_CLIENT_SECRET: config.vtnClientSecret,
          BUSWAY_POLL_INTERVAL_MS: '2000',
          BUSWAY_MAX_BACKOFF_MS: '2000',
          BUSWAY_REPORT_DELAY_MS: '2000',
          // the facility's load, for the usage reports: each row's busway, on its plant area's subject
          BUSWAY_METER_SUBJECTS: plant.rows
            .map((r) => `norm.v1.samples.${site}.${plant.hall}.${r.id}.${r.area}`)
            .join(','),
          BUSWAY_METER_ASSETS: plant.rows.map((r) => r.busway).join(','),
        },
      },
    ],
  };
}

/** The demo's REST API: a free port and a read token made for this run (the API keeps only its hash). */
export async function demoApiAccess(): Promise<{
  env: NodeJS.ProcessEnv;
  example: (site: string) => string;
}> {
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const sha256 = createHash('sha256').update(token).digest('hex');
  return {
    env: {
      BUSWAY_API_PORT: String(port),
      BUSWAY_TOKENS: JSON.stringify([{ name: 'demo', sha256, scopes: ['read'] }]),
    },
    example: (site) =>
      `curl -H 'Authorization: Bearer ${token}' 'http://127.0.0.1:${port}/v1/values?path=uns.v1.${site}.*.*.*.cdu.>'`,
  };
}
