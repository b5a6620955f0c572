// The simulator's grid operator: a VTN that, a few seconds into the run, caps the facility's import and
// publishes a price curve, and asks the VEN for a usage report of the curtailment.
import type { SimulatorConfig } from '../config.js';
import { Physics } from '../physics.js';
import type { VtnClient } from './auth.js';
import type { OadrObject } from './objects.js';
import { Vtn, type VtnLog } from './vtn.js';

export interface CurtailmentPlan {
  /** When the events are issued, after the VTN starts. */
  issueAfterMs: number;
  /** Import cap of the curtailment event (IMPORT_CAPACITY_LIMIT), in kW. */
  limitKw: number;
  /** Length of the curtailment interval, in seconds. */
  curtailmentS: number;
  /** Prices of consecutive PRICE intervals, USD per kWh. */
  pricesUsdPerKwh: number[];
  /** Length of each price interval, in seconds. */
  priceIntervalS: number;
}

/** The plant's draw with every GPU busy, in kW: the curtailment caps it at a share of that. */
export function fullLoadKw(racks: number, nodesPerRack: number, gpusPerNode: number): number {
  const node = Physics.nodeIdleKw + gpusPerNode * Physics.gpuFullKw;
  return racks * (nodesPerRack * node + Physics.rackOverheadKw);
}

/** The program and the two events of the scenario, as the business logic would post them. */
export function curtailmentRequests(plan: CurtailmentPlan, issuedAtMs: number) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const program = {
    programName: 'busway-demand-response',
    programDescriptions: [{ URL: 'https://example.com/busway-demand-response' }],
    payloadDescriptors: [
      { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'IMPORT_CAPACITY_LIMIT', units: 'KW' },
      { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'PRICE', units: 'KWH', currency: 'USD' },
    ],
  };
  const curtailment = (programID: string) => ({
    programID,
    eventName: 'curtailment',
    priority: 0,
    payloadDescriptors: [
      { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'IMPORT_CAPACITY_LIMIT', units: 'KW' },
    ],
    reportDescriptors: [{ payloadType: 'USAGE', readingType: 'DIRECT_READ', units: 'KWH', aggregate: true }],
    intervalPeriod: { start: iso(issuedAtMs + 2000), duration: `PT${plan.curtailmentS}S` },
    intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [plan.limitKw] }] }],
  });
  const prices = (programID: string) => ({
    programID,
    eventName: 'day-ahead-price',
    intervalPeriod: { start: iso(issuedAtMs), duration: `PT${plan.priceIntervalS}S` },
    intervals: plan.pricesUsdPerKwh.map((price, id) => ({
      id,
      payloads: [{ type: 'PRICE', values: [price] }],
    })),
  });
  return { program, curtailment, prices };
}

/** A running simulated grid operator. */
export interface SimulatedVtn {
  vtn: Vtn;
  /** The program and events once issued. */
  issued(): { program?: OadrObject; events: OadrObject[] };
  stop(): Promise<void>;
}

/** Starts the VTN on `port` and issues the scenario's program and events after `plan.issueAfterMs`. */
export async function startSimulatedVtn(
  options: { port: number; host: string; clients: VtnClient[]; plan: CurtailmentPlan },
  log: VtnLog,
): Promise<SimulatedVtn> {
  const vtn = await Vtn.start({ port: options.port, host: options.host, clients: options.clients, log });
  const state: { program?: OadrObject; events: OadrObject[] } = { events: [] };
  const timer = setTimeout(() => {
    try {
      const r = curtailmentRequests(options.plan, Date.now());
      state.program = vtn.createProgram(r.program);
      state.events.push(
        vtn.createEvent(r.curtailment(state.program.id)),
        vtn.createEvent(r.prices(state.program.id)),
      );
      log.info(
        { limitKw: options.plan.limitKw, events: state.events.map((e) => e.id) },
        'VTN issued a curtailment and prices',
      );
    } catch (err) {
      log.warn({ err }, 'VTN could not issue the scenario');
    }
  }, options.plan.issueAfterMs);
  log.info({ url: vtn.url }, 'OpenADR 3.1 VTN listening');
  return {
    vtn,
    issued: () => state,
    async stop() {
      clearTimeout(timer);
      const reports = vtn.list('reports');
      if (reports.length > 0) log.info({ reports: reports.length }, 'VTN received usage reports');
      await vtn.close();
    },
  };
}

/** The simulator's VTN options from its config: the curtailment caps the plant at 60 % of its full load. */
export function simulatedVtnOptions(config: SimulatorConfig) {
  const racks = config.rows * config.racksPerRow;
  const limitKw = Math.round(0.6 * fullLoadKw(racks, config.nodesPerRack, config.gpusPerNode));
  return {
    port: config.vtnPort,
    host: '127.0.0.1',
    clients: [{ clientId: config.vtnClientId, clientSecret: config.vtnClientSecret, role: 'ven' as const }],
    plan: {
      issueAfterMs: 3000,
      limitKw,
      curtailmentS: 15,
      pricesUsdPerKwh: [0.12, 0.35, 0.52, 0.18],
      priceIntervalS: 10,
    },
  };
}
