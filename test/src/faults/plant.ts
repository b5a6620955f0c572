/** A plant small enough for 2 shared cores beside three NATS nodes, busy enough that every batch is real. */
export const FAULTS_PLANT: Record<string, string> = {
  BUSWAY_ROWS: '2',
  BUSWAY_RACKS_PER_ROW: '2',
  BUSWAY_NODES_PER_RACK: '2',
  BUSWAY_GPUS_PER_NODE: '4',
  // the simulator's own sensor faults would only add anomalies: the faults here are the infrastructure's
  BUSWAY_FAULT_MEAN_INTERVAL_MS: '0',
};
