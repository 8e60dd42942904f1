// The one module that talks to @kubernetes/client-node (ESM-only, and its generated API changes
// between majors): everything else in the controller goes through KubeClient.
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  V1MicroTime,
  Watch,
  setHeaderOptions,
  type V1Lease,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PlanSource, type PlanSourceStatus } from '../plansource/types.js';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface LeaseRecord {
  holder: string | undefined;
  renewTime: Date | undefined;
  durationSeconds: number;
  transitions: number;
  resourceVersion: string;
}

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** HTTP status of a failed Kubernetes call (0 when it never got an answer). */
export function statusOf(err: unknown): number {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown })?.statusCode ?? (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : 0;
}

/** The API server's own message for a failed call (e.g. a CRD validation failure). */
export function messageOf(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed && typeof parsed === 'object' && 'message' in parsed) return String((parsed as { message: unknown }).message);
    } catch {
      /* not JSON */
    }
    return String(body ?? err.message);
  }
  return (err as Error)?.message ?? String(err);
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault(); // KUBECONFIG, ~/.kube/config, or the in-cluster service account
  return kc;
}

export class KubeClient {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  /** Namespace from the current kubeconfig context (in-cluster: the pod's own). */
  defaultNamespace(): string {
    return this.kc.getContextObject(this.kc.getCurrentContext())?.namespace ?? 'default';
  }

  async listPlanSources(namespace: string | null): Promise<{ items: PlanSource[]; resourceVersion: string }> {
    const items: PlanSource[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    // Paged, so thousands of sources never arrive as one huge response.
    do {
      const page = (
        namespace
          ? await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, limit: 500, _continue: cont })
          : await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, limit: 500, _continue: cont })
      ) as { items: PlanSource[]; metadata: { resourceVersion: string; continue?: string } };
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /**
   * Starts a watch; resolves once the request is made. `done` is called exactly once when it ends.
   * client-node aborts a watch after 30 s without data, which on a quiet cluster means every 30 s;
   * the informer runs its own silence detection, so the library's is pushed out past it.
   */
  watchPlanSources(
    namespace: string | null,
    resourceVersion: string,
    timeoutSeconds: number,
    onEvent: (phase: WatchPhase, obj: PlanSource & { code?: number }) => void,
    done: (err: unknown) => void,
    inactivityMs = 30_000,
  ): Promise<AbortController> {
    const path = namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    const watcher = new Watch(this.kc);
    // Not in client-node's typings (private), but the one knob for its inactivity timer.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = inactivityMs;
    return watcher.watch(
      path,
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (phase, obj) => onEvent(phase as WatchPhase, obj),
      done,
    );
  }

  async getPlanSource(namespace: string, name: string): Promise<PlanSource | null> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as PlanSource;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  /** Sets finalizers with optimistic concurrency: 409 if the object changed since it was read. */
  async setFinalizers(ps: PlanSource, finalizers: string[]): Promise<PlanSource> {
    return (await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: ps.metadata.namespace!,
        name: ps.metadata.name,
        body: { metadata: { finalizers, resourceVersion: ps.metadata.resourceVersion } },
      },
      mergePatch,
    )) as PlanSource;
  }

  async patchPlanSourceStatus(namespace: string, name: string, status: PlanSourceStatus): Promise<PlanSource> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
      mergePatch,
    )) as PlanSource;
  }

  /** A Secret's data, decoded; null if it does not exist. */
  async readSecret(namespace: string, name: string): Promise<Record<string, string> | null> {
    try {
      const s = await this.core.readNamespacedSecret({ namespace, name });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
      for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = v;
      return out;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  async createEvent(ps: PlanSource, ev: EventInput, component: string, instance: string): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: ps.metadata.namespace!,
      body: {
        metadata: { generateName: `${ps.metadata.name}.`, namespace: ps.metadata.namespace! },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'PlanSource',
          name: ps.metadata.name,
          namespace: ps.metadata.namespace!,
          uid: ps.metadata.uid!,
          resourceVersion: ps.metadata.resourceVersion!,
        },
        type: ev.type,
        reason: ev.reason,
        message: ev.message.slice(0, 1024),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component },
        reportingComponent: component,
        reportingInstance: instance,
      },
    });
  }

  async readLease(namespace: string, name: string): Promise<LeaseRecord | null> {
    try {
      return toLeaseRecord(await this.coordination.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  /** Creates (no resourceVersion) or replaces (compare-and-swap on resourceVersion) the lease. */
  async writeLease(
    namespace: string,
    name: string,
    rec: { holder: string; durationSeconds: number; transitions: number; acquireTime: Date; renewTime: Date },
    resourceVersion?: string,
  ): Promise<LeaseRecord> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: rec.holder,
        leaseDurationSeconds: rec.durationSeconds,
        leaseTransitions: rec.transitions,
        acquireTime: new V1MicroTime(rec.acquireTime.getTime()),
        renewTime: new V1MicroTime(rec.renewTime.getTime()),
      },
    };
    const out = resourceVersion
      ? await this.coordination.replaceNamespacedLease({ namespace, name, body })
      : await this.coordination.createNamespacedLease({ namespace, body });
    return toLeaseRecord(out);
  }

  async readDeploymentReplicas(namespace: string, name: string): Promise<number | null> {
    try {
      const scale = await this.apps.readNamespacedDeploymentScale({ namespace, name });
      return scale.spec?.replicas ?? 0;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  /** Sets replicas through the scale subresource, as the HPA does: no other field is touched. */
  async scaleDeployment(namespace: string, name: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedDeploymentScale({ namespace, name, body: { spec: { replicas } } }, mergePatch);
  }
}

function toLeaseRecord(l: V1Lease): LeaseRecord {
  return {
    holder: l.spec?.holderIdentity ?? undefined,
    renewTime: l.spec?.renewTime ? new Date(l.spec.renewTime) : undefined,
    durationSeconds: l.spec?.leaseDurationSeconds ?? 15,
    transitions: l.spec?.leaseTransitions ?? 0,
    resourceVersion: l.metadata?.resourceVersion ?? '',
  };
}
