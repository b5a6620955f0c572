// A real node-opcua server for this package's tests: a CDU's variables, restartable on the same port and PKI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  makeEUInformation,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  standardUnits,
  StatusCodes,
  type DataValue,
  type StatusCode,
  type UAVariable,
} from 'node-opcua';

export const NODE = {
  supplyTemp: 'ns=1;s=CDU1.SupplyTemp',
  flow: 'ns=1;s=CDU1.Flow',
  level: 'ns=1;s=CDU1.TankLevel',
  pressure: 'ns=1;s=CDU1.Pressure',
  pumpStarts: 'ns=1;s=CDU1.PumpStarts',
  pumpRunning: 'ns=1;s=CDU1.PumpRunning',
  mode: 'ns=1;s=CDU1.Mode',
  firmware: 'ns=1;s=CDU1.FirmwareImage',
} as const;
export type NodeKey = keyof typeof NODE;

export interface PlantOptions {
  /** Only SignAndEncrypt with Basic256Sha256, and only this user. */
  secure?: { user: string; password: string };
  /** node-opcua's pre-2.183 behaviour, so that anonymous sessions can transfer subscriptions. */
  anonymousTransfer?: boolean;
}

export interface Plant {
  readonly port: number;
  readonly url: string;
  readonly pkiDir: string;
  /** Sets a variable's value (source timestamp: now) and returns the DataValue the server now holds. */
  set(key: NodeKey, dataType: DataType, value: unknown, status?: StatusCode): DataValue;
  /** The secure channels open now: how clients are connected. */
  channels(): { securityMode: string; securityPolicy: string }[];
  stop(): Promise<void>;
  /** Starts a fresh server (new sessions, initial values) on the same port and PKI. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

const RESOURCE_PATH = '/UA/Busway';

function addVariables(server: OPCUAServer): Map<NodeKey, UAVariable> {
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('server not initialized');
  const ns = addressSpace.getOwnNamespace();
  const cdu = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'CDU1' });
  const nodeId = (key: NodeKey) => NODE[key].replace('ns=1;', '');
  const analog = (
    key: NodeKey,
    eu: Parameters<typeof ns.addAnalogDataItem>[0]['engineeringUnits'],
    value: number,
  ) =>
    ns.addAnalogDataItem({
      componentOf: cdu,
      browseName: key,
      nodeId: nodeId(key),
      dataType: 'Double',
      engineeringUnitsRange: { low: 0, high: 200 },
      engineeringUnits: eu,
      value: { dataType: DataType.Double, value },
    });
  const plain = (key: NodeKey, dataType: DataType, value: unknown) =>
    ns.addVariable({
      componentOf: cdu,
      browseName: key,
      nodeId: nodeId(key),
      dataType: DataType[dataType],
      value: { dataType, value },
    });
  return new Map<NodeKey, UAVariable>([
    ['supplyTemp', analog('supplyTemp', standardUnits.degree_celsius, 30)],
    // no display name: the bridge falls back to the UNECE code of unitId
    ['flow', analog('flow', makeEUInformation('L2', '', 'litre per minute'), 100)],
    ['level', analog('level', standardUnits.percent, 50)],
    ['pressure', plain('pressure', DataType.Double, 250)],
    ['pumpStarts', plain('pumpStarts', DataType.Int32, 7)],
    ['pumpRunning', plain('pumpRunning', DataType.Boolean, false)],
    ['mode', plain('mode', DataType.String, 'auto')],
    ['firmware', plain('firmware', DataType.ByteString, Buffer.from([0xde, 0xad, 0xbe, 0xef]))],
  ]);
}

function createServer(port: number, pkiDir: string, options: PlantOptions): OPCUAServer {
  const { secure } = options;
  return new OPCUAServer({
    port,
    resourcePath: RESOURCE_PATH,
    serverCertificateManager: new OPCUACertificateManager({
      rootFolder: join(pkiDir, 'server'),
      automaticallyAcceptUnknownCertificate: true,
    }),
    securityModes: secure ? [MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
    securityPolicies: secure ? [SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
    allowAnonymous: !secure,
    userManager: secure
      ? {
          isValidUser: (user: string, password: string) =>
            user === secure.user && password === secure.password,
        }
      : undefined,
    allowAnonymousSubscriptionTransferOnUnsecuredChannel: options.anonymousTransfer ?? false,
  });
}

export async function startPlant(port: number, options: PlantOptions = {}): Promise<Plant> {
  const pkiDir = mkdtempSync(join(tmpdir(), 'busway-opcua-plant-'));
  let server: OPCUAServer | undefined;
  let variables = new Map<NodeKey, UAVariable>();
  const launch = async () => {
    server = createServer(port, pkiDir, options);
    await server.initialize();
    variables = addVariables(server);
    await server.start();
  };
  const halt = async () => {
    await server?.shutdown(0);
    server = undefined;
  };
  await launch();
  return {
    port,
    pkiDir,
    url: `opc.tcp://127.0.0.1:${port}${RESOURCE_PATH}`,
    set(key, dataType, value, status = StatusCodes.Good) {
      const variable = variables.get(key);
      if (!variable) throw new Error(`no variable ${key}`);
      variable.setValueFromSource({ dataType, value }, status);
      return variable.readValue();
    },
    channels: () =>
      (server?.endpoints ?? []).flatMap((e) =>
        e.getChannels().map((c) => ({
          securityMode: MessageSecurityMode[c.securityMode] ?? String(c.securityMode),
          securityPolicy: String(c.securityPolicy),
        })),
      ),
    stop: halt,
    restart: async () => {
      await halt();
      await launch();
    },
    dispose: async () => {
      await halt();
      rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}
