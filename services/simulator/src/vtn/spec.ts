// The OpenADR 3.1.0 OpenAPI document (spec/, OpenADR Alliance, Apache-2.0) compiled into JSON Schema validators.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

const addFormats = addFormatsModule.default;

/** The files of spec/, as the OpenADR Alliance publishes them (reformatted by prettier, content unchanged). */
const specFile = (name: string) => new URL(`../../src/vtn/spec/${name}`, import.meta.url);

type Json = Record<string, unknown>;

/** Component schema names the VTN validates bodies against. */
export type OpenAdrSchemaName =
  | 'program'
  | 'programRequest'
  | 'event'
  | 'eventRequest'
  | 'ven'
  | 'venRequest'
  | 'subscription'
  | 'subscriptionRequest'
  | 'report'
  | 'reportRequest'
  | 'notification'
  | 'clientCredentialRequest'
  | 'clientCredentialResponse'
  | 'authServerInfo'
  | 'authError'
  | 'problem'
  | 'duration'
  | 'dateTime'
  | 'objectID';

/**
 * Errata of the 3.1.0 document, patched before compiling, each one a contradiction no object can satisfy:
 * `ven` and `resource` are allOf objectMetadata (objectType one of PROGRAM, EVENT, ..., VEN, RESOURCE) and the
 * BL request (objectType BL_VEN_REQUEST / BL_RESOURCE_REQUEST). The server representation keeps the
 * metadata's objectType; the request's discriminator applies to requests only.
 */
function patchErrata(schemas: Record<string, Json>): void {
  for (const [server, request] of [
    ['ven', 'BlVenRequest'],
    ['resource', 'BlResourceRequest'],
  ] as const) {
    const req = schemas[request] as { properties: Json; required: string[] };
    const { objectType: _discriminator, ...properties } = req.properties;
    schemas[`${request}Server`] = {
      ...req,
      properties,
      required: req.required.filter((k) => k !== 'objectType'),
    };
    schemas[server] = {
      ...schemas[server],
      allOf: [
        { $ref: '#/components/schemas/objectMetadata' },
        { $ref: `#/components/schemas/${request}Server` },
      ],
    };
  }
}

/** OpenAPI 3.0 writes exclusive bounds the draft-04 way (a boolean beside maximum); ajv reads draft-07. */
function draft07Bounds(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(draft07Bounds);
  if (typeof node !== 'object' || node === null) return;
  const s = node as Json;
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (s[flag] === true && typeof s[bound] === 'number') {
      s[flag] = s[bound];
      delete s[bound];
    } else if (s[flag] === false) delete s[flag];
  }
  Object.values(s).forEach(draft07Bounds);
}

/** One line per problem: `/intervals/0/payloads: must have required property 'type'`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}`)
    .join('; ');
}

/** The OpenADR 3.1.0 schemas: components of the OpenAPI document and the interval payload definitions. */
export class OpenAdrSpec {
  /** The OpenAPI document as parsed (errata not applied). */
  readonly document: Json;
  /** Payload types the payload enumeration defines (SIMPLE, PRICE, IMPORT_CAPACITY_LIMIT, ALERT_*, ...). */
  readonly payloadTypes: string[];
  /** Units the units enumeration lists (KWH, KW, PERCENT, ...). */
  readonly units: string[];
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.document = parse(readFileSync(specFile('openadr3.yaml'), 'utf8')) as Json;
    const payloads = parse(readFileSync(specFile('event-interval-payloads.schema.yaml'), 'utf8')) as {
      definitions: Record<string, Json>;
    };
    const units = parse(readFileSync(specFile('units.schema.yaml'), 'utf8')) as { enum: string[] };
    this.units = units.enum;
    const schemas = structuredClone((this.document.components as { schemas: Record<string, Json> }).schemas);
    patchErrata(schemas);
    draft07Bounds(schemas);
    // payload definitions carry fragment $ids ajv refuses; their `#/components/schemas/point` refs resolve here
    const definitions: Record<string, Json> = {};
    for (const [name, def] of Object.entries(payloads.definitions)) {
      const { $id: _id, ...rest } = def;
      definitions[name] = rest;
    }
    this.payloadTypes = Object.keys(definitions);
    // OpenAPI 3.0 keywords ajv does not know (example, discriminator, format int32) are annotations here
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
    });
    this.ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addSchema({ $id: 'openadr3', components: { schemas }, definitions });
  }

  /** The validator of a component schema (compiled once). */
  validator(name: OpenAdrSchemaName | string): ValidateFunction {
    return this.compiledAt(`openadr3#/components/schemas/${name}`);
  }

  /** undefined when the value conforms to the component schema, else what is wrong. */
  check(name: OpenAdrSchemaName, value: unknown): string | undefined {
    const v = this.validator(name);
    return v(value) ? undefined : describeErrors(v.errors);
  }

  /**
   * undefined when `values` conform to the payload type's definition, else what is wrong; a type the
   * enumeration does not define gives `unknown payload type`.
   */
  checkPayload(type: string, values: unknown): string | undefined {
    if (!this.payloadTypes.includes(type)) return `unknown payload type ${type}`;
    const v = this.compiledAt(`openadr3#/definitions/${type}`);
    return v(values) ? undefined : describeErrors(v.errors);
  }

  private compiledAt(ref: string): ValidateFunction {
    let v = this.compiled.get(ref);
    if (!v) {
      const found = this.ajv.getSchema(ref);
      if (!found) throw new Error(`no schema ${ref} in the OpenADR document`);
      v = found;
      this.compiled.set(ref, v);
    }
    return v;
  }
}

let shared: OpenAdrSpec | undefined;

/** The schemas, loaded and compiled once per process. */
export function openAdrSpec(): OpenAdrSpec {
  shared ??= new OpenAdrSpec();
  return shared;
}
