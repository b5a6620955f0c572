import { metricTokens, token, type busway } from '@busway/proto';

/** Values a topic template can name: the sample's UNS path and metric, and the NATS subject. */
export interface TopicVars {
  subject: string;
  path?: busway.v1.IUnsPath | null;
  metric?: string | null;
}

/** The metric's dotted taxonomy name as topic levels: temperature.coolant.supply → temperature/coolant/supply. */
export const metricLevels = (metric: string): string => metricTokens(metric).split('.').join('/');

const PLACEHOLDER = /\{([a-z]+|\d+)\}/g;

/**
 * Fills a topic template. Every filled-in value is made of subject tokens ([a-z0-9_-]), so it can never add a
 * wildcard or an empty level. Undefined when the template names a value this message does not have.
 */
export function fillTemplate(template: string, v: TopicVars): string | undefined {
  const subjectTokens = v.subject.split('.');
  const p = v.path;
  let missing = false;
  const out = template.replace(PLACEHOLDER, (whole, name: string) => {
    let value: string | undefined;
    if (/^\d+$/.test(name)) value = subjectTokens[Number(name)];
    else if (name === 'subject') value = subjectTokens.join('/');
    else if (name === 'metric') value = v.metric ? metricLevels(v.metric) : undefined;
    else if (p) {
      const raw = {
        site: p.site,
        hall: p.hall,
        row: p.row,
        rack: p.rack,
        class: p.assetClass,
        asset: p.asset,
      }[name];
      value = raw ? token(raw) : undefined;
    }
    if (value === undefined) {
      missing = true;
      return whole;
    }
    return value;
  });
  return missing ? undefined : out;
}

/** UNS style: `<prefix>/<site>/<hall>/<row>/<rack>/<class>/<asset>/<metric…>`, the UNS subject's levels. */
export function unsTopic(prefix: string, path: busway.v1.IUnsPath, metric: string): string {
  return fillTemplate(`${prefix}/{site}/{hall}/{row}/{rack}/{class}/{asset}/{metric}`, {
    subject: '',
    path: { site: '_', hall: '_', row: '_', rack: '_', assetClass: '_', asset: '_', ...stripEmpty(path) },
    metric,
  }) as string;
}

/** Subject style: `<prefix>/<subject tokens…>`. */
export function subjectTopic(prefix: string, subject: string): string {
  return `${prefix}/${subject.split('.').join('/')}`;
}

/** DSX style: `BMS/v1/<integration>/Value/<objectType>/<pointType>/<tagPath>`. */
export function dsxTopic(
  integration: string,
  objectType: string,
  pointType: string,
  tagPath: string,
): string {
  return `BMS/v1/${integration}/Value/${objectType}/${pointType}/${tagPath}`;
}

function stripEmpty(path: busway.v1.IUnsPath): busway.v1.IUnsPath {
  return Object.fromEntries(Object.entries(path).filter(([, v]) => typeof v === 'string' && v !== ''));
}
