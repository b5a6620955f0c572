// A container's entry point: `node dist/main.js` runs the correlator alone (config from env and BUSWAY_CONFIG).
import { runWorker } from '@busway/runtime';
import { correlatorModule } from './index.js';

await runWorker(correlatorModule);
