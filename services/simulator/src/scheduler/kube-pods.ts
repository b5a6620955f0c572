/** The parts of a core/v1 Pod that the simulated API server keeps and serves. */
export interface Pod {
  kind: 'Pod';
  apiVersion: 'v1';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: {
    nodeName?: string;
    schedulerName?: string;
    restartPolicy?: string;
    containers: {
      name: string;
      image: string;
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
  status: {
    phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      image: string;
      state: Record<string, Record<string, unknown>>;
    }[];
  };
}

export interface PodInput {
  name: string;
  namespace?: string;
  /** `nvidia.com/gpu` in the container's requests and limits. @default 0 */
  gpus?: number;
  labels?: Record<string, string>;
  /** The batch/v1 Job that owns the pod. */
  jobName?: string;
  createdMs?: number;
}

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export const k8sTime = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A new, unscheduled pod (Pending) with one container. */
export function newPod(input: PodInput): Pod {
  const gpus = input.gpus ?? 0;
  const resources =
    gpus > 0
      ? { requests: { 'nvidia.com/gpu': String(gpus) }, limits: { 'nvidia.com/gpu': String(gpus) } }
      : {};
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: input.name,
      namespace: input.namespace ?? 'default',
      uid: '',
      creationTimestamp: k8sTime(input.createdMs ?? Date.now()),
      labels: { ...(input.jobName ? { 'job-name': input.jobName } : {}), ...input.labels },
      ...(input.jobName
        ? {
            ownerReferences: [
              {
                apiVersion: 'batch/v1',
                kind: 'Job',
                name: input.jobName,
                uid: `job-${input.jobName}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      schedulerName: 'default-scheduler',
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'nvcr.io/nvidia/pytorch:24.05-py3', resources }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] },
  };
}

/** Binds the pod to a node (the scheduler's decision). */
export function bindPod(pod: Pod, nodeName: string, atMs: number): void {
  pod.spec.nodeName = nodeName;
  pod.status.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: k8sTime(atMs) }];
  pod.status.startTime = k8sTime(atMs);
  pod.status.containerStatuses = pod.spec.containers.map((c) => ({
    name: c.name,
    ready: false,
    restartCount: 0,
    image: c.image,
    state: { waiting: { reason: 'ContainerCreating' } },
  }));
}

/** The pod's containers run. */
export function runPod(pod: Pod, atMs: number): void {
  pod.status.phase = 'Running';
  pod.status.startTime ??= k8sTime(atMs);
  pod.status.containerStatuses = pod.spec.containers.map((c) => ({
    name: c.name,
    ready: true,
    restartCount: 0,
    image: c.image,
    state: { running: { startedAt: k8sTime(atMs) } },
  }));
}

/** The pod's containers exit: Succeeded with exit code 0, Failed otherwise. */
export function finishPod(pod: Pod, phase: 'Succeeded' | 'Failed', atMs: number): void {
  pod.status.phase = phase;
  pod.status.containerStatuses = pod.spec.containers.map((c, i) => {
    const started = pod.status.containerStatuses?.[i]?.state.running?.startedAt;
    return {
      name: c.name,
      ready: false,
      restartCount: 0,
      image: c.image,
      state: {
        terminated: {
          exitCode: phase === 'Succeeded' ? 0 : 1,
          reason: phase === 'Succeeded' ? 'Completed' : 'Error',
          ...(started ? { startedAt: started } : {}),
          finishedAt: k8sTime(atMs),
        },
      },
    };
  });
}

/** Equality-based selectors (`a=b`, `a==b`, `a!=b`, comma-joined): what the simulated server supports. */
function selectorMatches(selector: string | undefined, value: (key: string) => string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = /^\s*([^!=\s]+)\s*(!=|==|=)\s*([^\s]*)\s*$/.exec(term);
    if (!m) return /^\s*$/.test(term);
    const [, key = '', op, want] = m;
    const have = value(key);
    return op === '!=' ? have !== want : have === want;
  });
}

export function podMatches(pod: Pod, ns?: string, labels?: string, fields?: string): boolean {
  if (ns !== undefined && pod.metadata.namespace !== ns) return false;
  const field = (key: string) =>
    ({
      'metadata.name': pod.metadata.name,
      'metadata.namespace': pod.metadata.namespace,
      'spec.nodeName': pod.spec.nodeName ?? '',
      'status.phase': pod.status.phase,
    })[key];
  return selectorMatches(labels, (k) => pod.metadata.labels?.[k]) && selectorMatches(fields, field);
}
