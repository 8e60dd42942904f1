// Talking to the test API server (started by global setup, or PLANSYNC_TEST_KUBECONFIG).
import { randomBytes } from 'node:crypto';
import { KubeConfig, KubernetesObjectApi, CoreV1Api, AppsV1Api, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../controller/kube/client.js';
import type { PlanSource, PlanSourceSpec } from '../../controller/plansource/types.js';

export function testKubeconfig(): string {
  const path = process.env.PLANSYNC_TEST_KUBECONFIG;
  if (!path) throw new Error('PLANSYNC_TEST_KUBECONFIG not set: run through jest (global setup starts kube-apiserver)');
  return path;
}

export function kubeConfig(path = testKubeconfig()): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface TestKube {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  client: KubeClient;
  namespace: string;
  applyPlanSource(name: string, spec: PlanSourceSpec, labels?: Record<string, string>): Promise<PlanSource>;
  getPlanSource(name: string): Promise<PlanSource | null>;
  patchPlanSourceSpec(name: string, spec: Partial<PlanSourceSpec>): Promise<PlanSource>;
  deletePlanSource(name: string): Promise<void>;
  createProcessorDeployment(name: string, replicas?: number): Promise<void>;
  replicas(name: string): Promise<number>;
  events(name: string): Promise<{ reason: string; type: string; message: string }[]>;
  cleanup(): Promise<void>;
}

/** A fresh namespace of its own on the test API server. */
export async function testKube(kubeconfigPath = testKubeconfig()): Promise<TestKube> {
  const kc = kubeConfig(kubeconfigPath);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = `t-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const client = new KubeClient(kc);
  const ps = (name: string): KubernetesObject & { metadata: { name: string; namespace: string } } => ({
    apiVersion: 'plansync.dev/v1alpha1',
    kind: 'PlanSource',
    metadata: { name, namespace },
  });
  return {
    kc,
    objects,
    core,
    apps,
    client,
    namespace,
    async applyPlanSource(name, spec, labels) {
      return (await objects.create({ ...ps(name), metadata: { name, namespace, labels }, spec } as KubernetesObject)) as PlanSource;
    },
    getPlanSource: (name) => client.getPlanSource(namespace, name),
    async patchPlanSourceSpec(name, spec) {
      return (await objects.patch({ ...ps(name), spec } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)) as PlanSource;
    },
    async deletePlanSource(name) {
      await objects.delete(ps(name));
    },
    async createProcessorDeployment(name, replicas = 0) {
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'processor', image: 'plansync:test', args: ['processor'] }] } },
          },
        },
      });
    },
    async replicas(name) {
      const s = await apps.readNamespacedDeploymentScale({ namespace, name });
      return s.spec?.replicas ?? 0;
    },
    async events(name) {
      const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
      return list.items.map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
    },
    async cleanup() {
      // Finalizers would hold the namespace open once no controller runs: drop them first.
      const list = await client.listPlanSources(namespace);
      for (const item of list.items) {
        if (item.metadata.finalizers?.length) await client.setFinalizers({ ...item, metadata: { ...item.metadata, resourceVersion: undefined } }, []).catch(() => {});
      }
      await core.deleteNamespace({ name: namespace }).catch(() => {});
    },
  };
}
