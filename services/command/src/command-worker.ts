import { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { Streams } from '@busway/proto';
import { RegistryClient, type SiteRegistry } from '@busway/registry';
import {
  connectControlTier,
  ConsumerConfigSchema,
  QosTiers,
  startConsumeLoop,
  tierConsumerConfig,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { DsxAdapter } from './adapters/dsx.js';
import { ModbusAdapter } from './adapters/modbus.js';
import { MqttLink } from './adapters/mqtt-link.js';
import { SparkplugAdapter } from './adapters/sparkplug.js';
import type { Adapter } from './adapters/types.js';
import { CommandStore } from './command-store.js';
import type { CommandConfig } from './config.js';
import { PointWatch } from './point-watch.js';
import { CommandProcessor } from './processor.js';
import { RateLimits } from './rate-limit.js';
import { RuleBook } from './rules.js';

const STAGE = 'command';

/**
 * The command worker: consumes command requests from stream CONTROL on the control tier's own connection and
 * limits, validates, delivers and confirms them (CommandProcessor). Values are read back on the runtime's
 * connection, apart from the commands.
 */
export async function startCommandWorker(rt: WorkerRuntime, config: CommandConfig): Promise<RunningWorker> {
  const log = rt.log;
  const tier = await connectControlTier(rt);
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined); // a value that cannot be read makes the point blind: commands are refused
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    redis.once('ready', () => (clearTimeout(timer), resolve()));
  });
  const registry = await RegistryClient.connect(config.redisUrl, config.site);
  rt.metrics.reportRegistryVersion(() => registry.registry.version);
  const store = await CommandStore.open(
    tier.js,
    config.recordBucket,
    config.recordTtlMs,
    config.streamReplicas,
  );
  const watch = new PointWatch(rt.nc, redis, config.readbackSource, log.child({ component: 'readback' }));

  const adapters = new Map<string, Adapter>();
  const link = config.mqttUrl ? await MqttLink.connect(config.mqttUrl, config.mqttClientId, log) : undefined;
  if (link) {
    adapters.set('sparkplug', new SparkplugAdapter(link, tier.js, config.sparkplugBirthBucket));
    if (config.dsxIntegration) {
      const dsx = new DsxAdapter(
        link,
        config.dsxTopicRoot,
        config.dsxIntegration,
        log.child({ component: 'dsx' }),
      );
      await dsx.start();
      adapters.set('dsx-bms', dsx);
    }
  }
  if (config.modbusDevices.length > 0)
    adapters.set('modbus', new ModbusAdapter(config.modbusDevices, log.child({ component: 'modbus' })));

  const counter = new Counter({
    name: 'busway_commands_total',
    help: 'Command steps, by state (accepted, rejected, expired, sent, confirmed, failed) and reason code',
    labelNames: ['state', 'code'],
    registers: [rt.metrics.registry],
  });
  const compile = (r: SiteRegistry) => {
    const rules = new RuleBook(config.rules, r);
    for (const [point, problem] of rules.problems)
      log.warn({ point, problem }, 'write rule not usable: its commands are refused');
    watch.setPoints(rules.readbacks());
    return rules;
  };
  const processor = new CommandProcessor(
    {
      js: tier.js,
      store,
      watch,
      adapters,
      rates: new RateLimits(config.requesterMaxPerMinute),
      config,
      log,
      counter,
    },
    compile(registry.registry),
  );
  registry.onChange((r) => (processor.rules = compile(r)));
  new Gauge({
    name: 'busway_commands_awaiting_confirmation',
    help: 'Sent commands whose readback has not reached the setpoint yet',
    registers: [rt.metrics.registry],
    collect() {
      this.set(processor.pendingConfirmations);
    },
  });
  const recovered = await processor.recover();
  log.info(
    {
      rules: processor.rules.size,
      adapters: [...adapters.keys()],
      records: recovered,
      readbackSource: config.readbackSource,
    },
    'command worker up (points without a rule are read-only)',
  );

  const loop = await startConsumeLoop({
    stage: STAGE,
    worker: 'command',
    js: tier.js,
    termWithReason: rt.features().termWithReason,
    stream: Streams.Control.name,
    durable: config.durable,
    // commands are control-tier work: small batches, few in hand, quick redelivery (the control* keys)
    config: tierConsumerConfig({ ...ConsumerConfigSchema.parse({}), ...config }, QosTiers.Control),
    metrics: rt.metrics,
    log,
    handle: (batch) => processor.handleBatch(batch),
  });
  return {
    async stop() {
      await loop.stop();
      processor.close();
      watch.close();
      for (const a of adapters.values()) await a.stop();
      await link?.stop();
      await registry.close();
      redis.disconnect();
      await tier.close();
    },
  };
}
