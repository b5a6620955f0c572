import ModbusSerial from 'modbus-serial';
import { ContractViolation, messageOf, TransientError, withTimeout } from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import type { BlockData } from './decode.js';
import type { Block } from './register-map.js';

// modbus-serial is CommonJS; its typings declare the class as the default export of the module object
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

/** Extra time our own guard gives a request beyond the client's timeout, which should fire first. */
const GUARD_MS = 250;

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Exceptions that say "not now" (busy, or a gateway cannot reach the device): retried with backoff. */
const TRANSIENT_EXCEPTIONS = new Set([5, 6, 10, 11]);

/** The device answered a read with a Modbus exception: the register map asks for something it rejects. */
export class ModbusException extends ContractViolation {
  constructor(
    readonly exceptionCode: number,
    message: string,
  ) {
    super(message);
  }
}

function exceptionCodeOf(err: unknown): number | undefined {
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  return typeof code === 'number' ? code : undefined;
}

/** `read holding 0+16 from plc-1 (10.0.0.5:502/1)`. */
export function describeRead(device: DeviceConfig, block: Block): string {
  return `read ${block.table} ${block.start}+${block.count} from ${device.id} (${device.host}:${device.port}/${device.unitId})`;
}

/**
 * One TCP connection to one device. Transport failures (refused, timed out, closed, busy) reject with
 * TransientError; any other Modbus exception, or a short answer, rejects with a ContractViolation.
 */
export class ModbusConnection {
  private client?: ModbusClient;

  constructor(private readonly device: DeviceConfig) {}

  get isOpen(): boolean {
    return this.client?.isOpen ?? false;
  }

  async connect(): Promise<void> {
    this.close();
    const { host, port, timeoutMs, unitId } = this.device;
    const client = new ModbusRTU();
    // socket errors also fail the pending request or the next one, which is where they are handled
    client.on('error', () => undefined);
    client.setTimeout(timeoutMs);
    this.client = client;
    try {
      await withTimeout(
        client.connectTCP(host, { port, timeout: timeoutMs }),
        timeoutMs + GUARD_MS,
        `connect to ${host}:${port}`,
      );
    } catch (err) {
      this.close();
      throw new TransientError(`cannot connect to ${host}:${port}: ${messageOf(err)}`, { cause: err });
    }
    client.setID(unitId);
  }

  async read(block: Block): Promise<BlockData> {
    const client = this.client;
    const what = describeRead(this.device, block);
    if (!client?.isOpen) throw new TransientError(`${what}: not connected`);
    try {
      const request = this.request(client, block);
      const result = await withTimeout(request, this.device.timeoutMs + GUARD_MS, what);
      return this.checked(block, result.data, what);
    } catch (err) {
      if (err instanceof ContractViolation) throw err;
      const code = exceptionCodeOf(err);
      if (code === undefined) throw new TransientError(`${what}: ${messageOf(err)}`, { cause: err });
      const message = `${what}: Modbus exception ${code} (${EXCEPTION_NAMES[code] ?? 'unknown'})`;
      if (TRANSIENT_EXCEPTIONS.has(code)) throw new TransientError(message, { cause: err });
      throw new ModbusException(code, message);
    }
  }

  private request(client: ModbusClient, block: Block): Promise<{ data: number[] | boolean[] }> {
    switch (block.table) {
      case 'holding':
        return client.readHoldingRegisters(block.start, block.count);
      case 'input':
        return client.readInputRegisters(block.start, block.count);
      case 'coil':
        return client.readCoils(block.start, block.count);
      case 'discrete':
        return client.readDiscreteInputs(block.start, block.count);
    }
  }

  /** Bits come rounded up to whole bytes: keep the ones asked for. */
  private checked(block: Block, data: number[] | boolean[], what: string): BlockData {
    if (data.length < block.count)
      throw new ContractViolation(`${what}: the answer holds ${data.length} values, not ${block.count}`);
    if (block.table === 'coil' || block.table === 'discrete')
      return { kind: 'bits', bits: data.slice(0, block.count).map((b) => b === true) };
    return { kind: 'registers', words: data.slice(0, block.count).map(Number) };
  }

  /** Drops the socket at once; only called when no request is pending. */
  close(): void {
    const client = this.client;
    this.client = undefined;
    client?.destroy(() => undefined);
  }
}
