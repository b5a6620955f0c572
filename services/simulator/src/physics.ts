/** Physical constants and laws of the simulated plant. */
export const Physics = {
  nodeIdleKw: 1.5,
  gpuFullKw: 0.7,
  rackOverheadKw: 0.5,
  idleUtilization: 0.05,
  jobUtilization: 0.95,
  supplyTempC: 30,
  coolantFlowLpm: 250,
  /** Water: kJ per kg per kelvin; 1 L ≈ 1 kg. */
  coolantCp: 4.186,
  thermalTimeConstantMs: 20_000,
  transportDelayMs: 3_000,
  inletBaseC: 25,
  /** Inlet air warms a little with rack load. */
  inletCPerKw: 0.05,
} as const;

export function nodePowerKw(utilization: number, gpus: number): number {
  return Physics.nodeIdleKw + gpus * Physics.gpuFullKw * utilization;
}

/** Steady-state coolant rise across the loop for a heat load: ΔT = Q / (ṁ·cp). */
export function coolantRiseC(heatKw: number, flowLpm: number): number {
  return heatKw / ((flowLpm / 60) * Physics.coolantCp);
}

/** One step of a first-order lag toward `target`. */
export function lagStep(current: number, target: number, dtMs: number, tauMs: number): number {
  return current + (target - current) * (1 - Math.exp(-dtMs / tauMs));
}
