import ModbusSerial from 'modbus-serial';
import { sourceAddressOf, type DeviceConfig, type RegisterType } from '@busway/ingest-modbus';
import { messageOf, withTimeout, type Logger } from '@busway/runtime';
import { CommandRefused, DeliveryError, RefusalCode } from '../errors.js';
import type { ResolvedPoint } from '../rules.js';
import { canonicalToSource, sourceToCanonical } from '../units.js';
import type { CommandValue } from '../validate.js';
import { encodeRegisters, quantizeRegister } from './modbus-encode.js';
import { splitPointId, type Adapter, type DeliveryPlan } from './types.js';

// modbus-serial is CommonJS; its typings declare the class as the default export of the module object
const ModbusRTU = ModbusSerial.default;

/**
 * Modbus TCP writes with the same register map as ingest-modbus (type, byte and word order, scale, offset):
 * FC 5 for a coil, FC 6 for one holding register, FC 16 for a 32- or 64-bit value. Each write opens its own
 * connection, one at a time per device, bounded by the command's expiry; input registers and discrete inputs
 * are read-only. A device that accepts one TCP client (taken by the poller) refuses the connection, and the
 * command fails with that reason: such devices need a gateway (see README).
 */
export class ModbusAdapter implements Adapter {
  readonly protocol = 'modbus';
  private readonly devices: Map<string, DeviceConfig>;
  private readonly busy = new Map<string, Promise<void>>();

  constructor(
    devices: readonly DeviceConfig[],
    private readonly log: Logger,
  ) {
    this.devices = new Map(devices.map((d) => [d.id, d]));
  }

  async plan(target: ResolvedPoint, value: CommandValue): Promise<DeliveryPlan> {
    const id = splitPointId(target.pointId);
    const device = id && this.devices.get(id.sourceId);
    if (!id || !device)
      throw new CommandRefused(
        RefusalCode.DeliveryUnavailable,
        `Modbus device of ${target.pointId} is not among modbusDevices: no register map to write with`,
      );
    const point = device.points.find((p) => p.name === id.name);
    if (!point)
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `device ${device.id} has no point '${id.name}' in its register map`,
      );
    if (point.table === 'input' || point.table === 'discrete')
      throw new CommandRefused(
        RefusalCode.NotDeliverable,
        `${id.name} is a ${point.table} ${point.table === 'input' ? 'register' : 'input'}: read-only in Modbus`,
      );
    const address = sourceAddressOf(device, point);
    if (point.table === 'coil') {
      if (typeof value !== 'boolean')
        throw new CommandRefused(
          RefusalCode.NotRepresentable,
          `${id.name} is a coil: it takes true or false`,
        );
      return {
        protocol: this.protocol,
        address,
        sourceValue: value,
        sourceUnit: '',
        deliveredValue: value,
        send: (deadlineMs) => this.write(device, deadlineMs, (c) => c.writeCoil(point.address, value)),
      };
    }
    if (typeof value !== 'number')
      throw new CommandRefused(
        RefusalCode.NotRepresentable,
        `${id.name} is a ${point.type} register: it takes a number`,
      );
    const type = point.type as RegisterType;
    const unit = point.unit || target.unit;
    const engineering = canonicalToSource(value, target.metric, unit, target.scale);
    const raw = quantizeRegister((engineering - point.offset) / point.scale, type);
    const words = encodeRegisters(raw, type, point.byteOrder, point.wordOrder);
    const sourceValue = raw * point.scale + point.offset; // what the poller will read back
    return {
      protocol: this.protocol,
      address,
      sourceValue,
      sourceUnit: unit,
      deliveredValue: sourceToCanonical(sourceValue, target.metric, unit, target.scale),
      send: (deadlineMs) =>
        this.write(device, deadlineMs, (c) =>
          words.length === 1
            ? c.writeRegister(point.address, words[0] as number)
            : c.writeRegisters(point.address, words),
        ),
    };
  }

  /** One write on its own connection, after the device's previous write, never past the deadline. */
  private write(
    device: DeviceConfig,
    deadlineMs: number,
    request: (client: InstanceType<typeof ModbusRTU>) => Promise<unknown>,
  ): Promise<void> {
    const previous = this.busy.get(device.id) ?? Promise.resolve();
    const next = previous.then(() => this.writeNow(device, deadlineMs, request));
    const settled = next.catch(() => undefined);
    this.busy.set(device.id, settled);
    void settled.then(() => this.busy.get(device.id) === settled && this.busy.delete(device.id));
    return next;
  }

  private async writeNow(
    device: DeviceConfig,
    deadlineMs: number,
    request: (client: InstanceType<typeof ModbusRTU>) => Promise<unknown>,
  ): Promise<void> {
    const leftMs = Math.min(device.timeoutMs, deadlineMs - Date.now());
    if (leftMs <= 0)
      throw new CommandRefused(
        RefusalCode.Expired,
        'the command expired while waiting for the device: not sent',
      );
    const client = new ModbusRTU();
    client.on('error', () => undefined); // socket errors fail the pending request, handled below
    const where = `${device.host}:${device.port}/${device.unitId}`;
    try {
      try {
        await withTimeout(
          client.connectTCP(device.host, { port: device.port, timeout: leftMs }),
          leftMs + 100,
          `connect to ${where}`,
        );
      } catch (err) {
        // nothing was sent: the device never heard this command
        throw new CommandRefused(
          RefusalCode.DeliveryUnavailable,
          `cannot connect to ${where}: ${messageOf(err)}`,
        );
      }
      client.setID(device.unitId);
      client.setTimeout(Math.max(1, deadlineMs - Date.now()));
      try {
        await withTimeout(request(client), Math.max(1, deadlineMs - Date.now()) + 100, `write to ${where}`);
      } catch (err) {
        const code = (err as { modbusCode?: unknown }).modbusCode;
        const detail = typeof code === 'number' ? `Modbus exception ${code}` : messageOf(err);
        throw new DeliveryError(RefusalCode.DeliveryFailed, `write to ${where} failed: ${detail}`, {
          cause: err,
        });
      }
    } finally {
      client.close(() => undefined);
    }
    this.log.debug({ device: device.id }, 'Modbus write answered');
  }

  async stop(): Promise<void> {
    await Promise.all(this.busy.values());
  }
}
