// Checks rendered manifests against the Kubernetes OpenAPI schemas (kubernetes-models) and KEDA's CRD schema
// (@kubernetes-models/keda), plus a strict pass their JSON schemas lack: a field the API type does not have (a
// typo like `readinesProbe`) is an error, found by walking the models' TypeScript types with the compiler API.
import { dirname, join } from 'node:path';
import ts from 'typescript';
import type { Manifest } from './helm.js';
import { ROOT } from './helm.js';

/** Every kind the chart renders: module path of its model and the name of its data interface. */
const MODELS: Record<string, { module: string; iface: string }> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', iface: 'IConfigMap' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', iface: 'IService' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', iface: 'IServiceAccount' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', iface: 'IDeployment' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1/StatefulSet', iface: 'IStatefulSet' },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', iface: 'IJob' },
  'policy/v1/PodDisruptionBudget': {
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    iface: 'IPodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    iface: 'INetworkPolicy',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    iface: 'IHorizontalPodAutoscaler',
  },
  'keda.sh/v1alpha1/ScaledObject': {
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    iface: 'IScaledObject',
  },
};

const keyOf = (m: { apiVersion: string; kind: string }) => `${m.apiVersion}/${m.kind}`;

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Schema errors of one manifest (empty when valid): the model's JSON-schema validation. */
export async function schemaErrors(m: Manifest): Promise<string[]> {
  const entry = MODELS[keyOf(m)];
  if (!entry) return [`${keyOf(m)}: no schema known for this kind`];
  const mod = (await import(entry.module)) as Record<string, ModelClass>;
  const Model = mod[m.kind];
  if (!Model) return [`${entry.module} exports no ${m.kind}`];
  try {
    new Model(m).validate();
    return [];
  } catch (err) {
    return [`${m.kind}/${m.metadata.name}: ${(err as Error).message}`];
  }
}

/** The compiler's view of every model interface, built once: a virtual file importing them all. */
class ModelTypes {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  constructor() {
    const entry = join(ROOT, 'test', '__k8s_model_types__.ts');
    const keys = Object.keys(MODELS);
    const source = [
      ...keys.map((k, i) => `import type { ${MODELS[k]?.iface} as T${i} } from '${MODELS[k]?.module}';`),
      `export interface All {`,
      ...keys.map((k, i) => `  ${JSON.stringify(k)}: T${i};`),
      `}`,
    ].join('\n');
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) =>
      name === entry ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === entry || fileExists(name);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (name === entry ? source : readFile(name));
    const program = ts.createProgram([entry], options, host);
    this.checker = program.getTypeChecker();
    const file = program.getSourceFile(entry);
    const all = file?.statements.find(ts.isInterfaceDeclaration);
    if (!all) throw new Error(`cannot read the model types (${dirname(entry)})`);
    const allType = this.checker.getTypeAtLocation(all);
    for (const key of keys) {
      const prop = allType.getProperty(key);
      if (!prop) throw new Error(`model type of ${key} not found`);
      this.types.set(key, this.checker.getTypeOfSymbol(prop));
    }
  }

  /** Paths of fields the API type does not know. */
  unknownFields(m: Manifest): string[] {
    const type = this.types.get(keyOf(m));
    if (!type) return [`${keyOf(m)}: no type`];
    const out: string[] = [];
    this.walk(m, type, `${m.kind}/${m.metadata.name}`, out);
    return out;
  }

  private walk(value: unknown, declared: ts.Type, path: string, out: string[]): void {
    if (value === null || value === undefined || typeof value !== 'object') return;
    const type = this.checker.getNonNullableType(declared);
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (Array.isArray(value)) {
      const element = this.checker.isArrayType(type)
        ? this.checker.getTypeArguments(type as ts.TypeReference)[0]
        : this.checker.getIndexTypeOfType(type, ts.IndexKind.Number);
      if (element) value.forEach((v, i) => this.walk(v, element, `${path}[${i}]`, out));
      return;
    }
    const members = type.isUnion() ? type.types : [type];
    for (const [key, child] of Object.entries(value)) {
      const props = members.map((t) => t.getProperty(key)).filter((p): p is ts.Symbol => p !== undefined);
      const prop = props[0];
      if (prop) {
        this.walk(child, this.checker.getTypeOfSymbol(prop), `${path}.${key}`, out);
        continue;
      }
      const index = members.map((t) => this.checker.getIndexTypeOfType(t, ts.IndexKind.String)).find(Boolean);
      if (index) this.walk(child, index, `${path}.${key}`, out);
      else out.push(`${path}.${key}`);
    }
  }
}

let types: ModelTypes | undefined;

/** Every problem of the manifests: schema errors and unknown fields. */
export async function validateManifests(manifests: Manifest[]): Promise<string[]> {
  types ??= new ModelTypes();
  const problems: string[] = [];
  for (const m of manifests) {
    problems.push(...(await schemaErrors(m)), ...types.unknownFields(m));
  }
  return problems;
}
