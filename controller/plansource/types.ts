// The PlanSource custom resource (plansync.dev/v1alpha1), as the controller reads it.
// Defaults here mirror the CRD's structural-schema defaults so file mode behaves the same.
export const GROUP = 'plansync.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'plansources';
export const KIND = 'PlanSource';
export const FINALIZER = 'plansync.dev/schedules';

export interface PlanSourceSpec {
  provider: {
    url: string;
    format?: 'fever-xml';
    timezone?: string;
    headersFrom?: { secretRef: { name: string } };
  };
  schedule?: { intervalSeconds?: number; cron?: string };
  timeoutSeconds?: number;
  maxBodyBytes?: number;
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  breaker?: { failureThreshold?: number; resetSeconds?: number };
  processor?: {
    minReplicas?: number;
    maxReplicas?: number;
    targetQueueDepthPerWorker?: number;
    activationQueueDepth?: number;
    scaleDownStabilizationSeconds?: number;
    cooldownSeconds?: number;
  };
  suspend?: boolean;
}

export interface Condition {
  type: 'Ready' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface PlanSourceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  schedule?: string;
  lastFetchTime?: string;
  lastSuccessTime?: string;
  lastOutcome?: string;
  plans?: number;
  queueDepth?: number;
  workers?: number;
}

export interface PlanSource {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: PlanSourceSpec;
  status?: PlanSourceStatus;
}

/** Key a source is known by everywhere (schedules, plan ids, metrics): namespace/name. */
export const sourceKey = (ps: Pick<PlanSource, 'metadata'>) => `${ps.metadata.namespace ?? 'default'}/${ps.metadata.name}`;

export interface ResolvedSpec {
  url: string;
  format: 'fever-xml';
  timezone: string;
  cron: string;
  timeoutSeconds: number;
  maxBodyBytes: number | undefined;
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  breaker: { failureThreshold: number; resetSeconds: number };
  processor: Required<NonNullable<PlanSourceSpec['processor']>>;
  suspend: boolean;
  headersSecret: string | undefined;
}
