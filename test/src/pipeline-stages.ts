import { sumOf, type Supervisor } from '@busway/cli';
import { waitFor } from '@busway/testkit';

/** The pipeline's stages as their workers label `busway_samples_total`. */
export const STAGES = ['ingest', 'normalize', 'correlate', 'anomaly', 'fanout'];

/**
 * Waits until every stage has written samples, not only the last: anomaly scores nothing while its series are
 * still learning, so fan-out can have output well before anomaly has.
 */
export async function waitForEveryStage(sup: Supervisor, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'samples out of every stage',
    async () => {
      const metrics = await sup.scrape();
      return STAGES.every((stage) => sumOf(metrics, 'busway_samples_total', { stage, direction: 'out' }) > 0);
    },
    timeoutMs,
  );
}
