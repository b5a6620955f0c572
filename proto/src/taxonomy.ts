/**
 * The metric taxonomy: dotted names whose first token is the quantity kind. Names keep different things
 * apart (a coolant supply, an air inlet and a GPU die are three different temperatures); the kind fixes the
 * one canonical UCUM unit that every sample of it carries after normalization.
 */
export const QuantityKinds = {
  temperature: 'Cel',
  power: 'W',
  energy: 'kW.h',
  flow: 'L/min',
  pressure: 'kPa',
  current: 'A',
  voltage: 'V',
  frequency: 'Hz',
  humidity: '%',
  utilization: '%',
  level: '%',
  position: '%',
  speed: '/min',
  /** Discrete states, flags and text: no unit. */
  state: '',
  /** Where a tracked asset is (zone, reader): text, no unit. */
  location: '',
  /** Radio signal strength (RSSI, SNR): logarithmic, kept in the source's dB unit. */
  signal: '',
  /** Sound level: logarithmic, kept in the source's dB unit. */
  sound: '',
  /** Dimensionless ratios such as a power factor. */
  ratio: '',
  /** Amounts of information: memory in use, bytes transferred. */
  data: 'By',
  /** Events counted since a reset (errors, retries): a counter, no unit. */
  count: '',
} as const;
export type QuantityKind = keyof typeof QuantityKinds;

/** Metrics with a meaning of their own; a name outside this list is allowed when its kind is known. */
export const Metrics: Record<string, { description: string; unit?: string }> = {
  'temperature.coolant.supply': { description: 'liquid coolant leaving the CDU towards the racks' },
  'temperature.coolant.return': { description: 'liquid coolant coming back from the racks' },
  'temperature.facility-water.supply': { description: 'facility water into the CDU heat exchanger' },
  'temperature.facility-water.return': { description: 'facility water out of the CDU heat exchanger' },
  'temperature.air.inlet': { description: 'air entering a rack or server' },
  'temperature.air.outlet': { description: 'air leaving a rack or server' },
  'temperature.air.supply': { description: 'air leaving a CRAH/CRAC' },
  'temperature.air.return': { description: 'air coming back to a CRAH/CRAC' },
  'temperature.gpu.die': { description: 'GPU die temperature' },
  'temperature.gpu.memory': { description: 'GPU HBM temperature' },
  'temperature.cpu': { description: 'CPU package temperature' },
  'temperature.cold-plate': { description: 'cold plate temperature' },
  'power.active': { description: 'real power' },
  'power.apparent': { description: 'apparent power', unit: 'V.A' },
  'power.reactive': { description: 'reactive power (var as V.A)', unit: 'V.A' },
  'power.gpu': { description: 'GPU board power' },
  'power.cap': { description: 'configured power cap' },
  'energy.active': { description: 'real energy, cumulative' },
  'flow.coolant': { description: 'liquid coolant flow' },
  'flow.facility-water': { description: 'facility water flow' },
  'flow.air': { description: 'air flow', unit: 'm3/h' },
  'pressure.coolant.supply': { description: 'coolant supply pressure' },
  'pressure.coolant.return': { description: 'coolant return pressure' },
  'pressure.coolant.differential': { description: 'coolant pressure difference supply - return' },
  'current.l1': { description: 'phase 1 current' },
  'current.l2': { description: 'phase 2 current' },
  'current.l3': { description: 'phase 3 current' },
  'voltage.l1': { description: 'phase 1 voltage' },
  'voltage.l2': { description: 'phase 2 voltage' },
  'voltage.l3': { description: 'phase 3 voltage' },
  frequency: { description: 'grid frequency' },
  'humidity.relative': { description: 'relative humidity' },
  'utilization.gpu': { description: 'GPU utilization' },
  'utilization.cpu': { description: 'CPU utilization' },
  'level.tank': { description: 'reservoir level' },
  'position.valve': { description: 'valve opening' },
  'speed.fan': { description: 'fan speed' },
  'speed.pump': { description: 'pump speed' },
  'state.running': { description: 'running (true) or stopped' },
  'state.alarm': { description: 'an active alarm at the source' },
  'location.zone': { description: 'zone a tracked asset is in' },
  'signal.rssi': { description: 'received signal strength' },
  'sound.level': { description: 'sound pressure level' },
  'ratio.power-factor': { description: 'power factor' },
  'current.limit': { description: 'rated current of a breaker or busway' },
  'pressure.air.differential': { description: 'air pressure difference (containment)' },
  'state.leak': { description: 'a leak is detected' },
  'energy.gpu': { description: 'GPU energy since boot, cumulative (a counter)' },
  'frequency.gpu.sm': { description: 'GPU SM clock' },
  'frequency.gpu.memory': { description: 'GPU memory clock' },
  'utilization.gpu.memory-copy': { description: 'GPU memory copy engine utilization' },
  'utilization.gpu.tensor': { description: 'ratio of cycles the GPU tensor pipe is active' },
  'data.gpu.memory.used': { description: 'GPU framebuffer memory in use' },
  'data.gpu.memory.free': { description: 'GPU framebuffer memory free' },
  'state.gpu.xid': { description: 'code of the last XID error a GPU reported (0: none)' },
  'count.gpu.pcie-replay': { description: 'PCIe retries of a GPU, cumulative' },
};

/** The quantity kind of a metric name, or undefined when its first token is not one. */
export function kindOf(metric: string): QuantityKind | undefined {
  const k = metric.split('.', 1)[0] ?? '';
  return Object.hasOwn(QuantityKinds, k) ? (k as QuantityKind) : undefined;
}

/** The canonical UCUM unit of a metric ('' for unitless kinds), or undefined for an unknown kind. */
export function canonicalUnitOf(metric: string): string | undefined {
  const own = Metrics[metric]?.unit;
  if (own !== undefined) return own;
  const kind = kindOf(metric);
  return kind === undefined ? undefined : QuantityKinds[kind];
}
