// What a fault scenario is: a small function that injects one fault into a running stack and says what to expect.
import type { SiteModel } from '@busway/registry';
import type { Ledger } from './ledger.js';
import type { Monitor, WatchedStream } from './monitor.js';
import type { FaultStack } from './stack.js';

/** One verdict of a scenario, with the evidence. `warn` is reported but does not fail the scenario. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  severity?: 'fail' | 'warn';
}

export interface ScenarioContext {
  stack: FaultStack;
  monitor: Monitor;
  log(line: string): void;
}

/** What the fault was and what the scenario expects beyond "nothing lost, nothing duplicated". */
export interface FaultOutcome {
  /** When the fault was injected (ms since the epoch): recovery is measured from here. */
  faultAt: number;
  /** When the injected fault was taken back (node restarted, process thawed), if it was. */
  repairedAt?: number;
  notes: string[];
  /** Dead letters the fault must produce, by DLQ subject; any other dead letter is a finding. */
  expectedDeadLetters?: Record<string, number>;
  /** Checks of the scenario's own, made once the pipeline has drained. */
  checks?: (ledger: Ledger) => Check[] | Promise<Check[]>;
}

export interface Scenario {
  name: string;
  title: string;
  /** The output whose freshness shows the disruption and the recovery. */
  watch: WatchedStream;
  /** Part of the quick subset that runs in the normal test suite. */
  quick?: boolean;
  /** Adds the scenario's own sources to the site model. */
  extendModel?: (model: SiteModel) => SiteModel;
  inject(ctx: ScenarioContext): Promise<FaultOutcome>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
