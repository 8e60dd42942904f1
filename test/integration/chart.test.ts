// The Helm chart: `helm lint --strict`, snapshots of `helm template` for each value set in
// charts/plansync/ci (pinned --kube-version), structural invariants, and every rendered manifest
// applied with server-side dry run to the real test API server.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../../services/core/paths.js';
import { messageOf } from '../../controller/kube/client.js';
import { kubeConfig } from '../helpers/kube.js';

const run = promisify(execFile);
const root = projectRoot();
const chart = join(root, 'charts', 'plansync');
const helm = join(root, '.testenv', 'bin', 'helm');
const KUBE_VERSION = '1.36.0';
const NAMESPACE = 'plansync';
const valueSets = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();

type Doc = KubernetesObject & { spec?: Record<string, unknown>; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };

async function render(valuesFile: string, extra: string[] = []): Promise<string> {
  const { stdout } = await run(helm, ['template', 'plansync', chart, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION, '--include-crds', '-f', join(chart, 'ci', valuesFile), ...extra], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Parsed manifests; duplicate keys and other YAML errors fail the test (kubectl would reject them). */
const docs = (yaml: string): Doc[] =>
  parseAllDocuments(yaml)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML is invalid: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Doc;
    })
    .filter(Boolean);

let objects: KubernetesObjectApi;

beforeAll(async () => {
  objects = KubernetesObjectApi.makeApiClient(kubeConfig());
  // Namespaces the value sets install into or watch.
  for (const name of [NAMESPACE, 'team-a', 'team-b']) {
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((err: unknown) => {
      if (!messageOf(err).includes('already exists')) throw err;
    });
  }
  // The ServiceMonitor kind comes from the Prometheus Operator; a permissive stand-in CRD lets the
  // server check everything else about the object (names, namespace, apiVersion/kind routing).
  await objects.patch(
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'servicemonitors.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor', listKind: 'ServiceMonitorList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
          },
        ],
      },
    } as KubernetesObject,
    undefined,
    undefined,
    'plansync-tests',
    true,
    PatchStrategy.ServerSideApply,
  );
  for (let i = 0; i < 100; i++) {
    try {
      await objects.list('monitoring.coreos.com/v1', 'ServiceMonitor', NAMESPACE);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

describe.each(valueSets)('chart with %s', (valuesFile) => {
  let rendered: Doc[];
  beforeAll(async () => {
    rendered = docs(await render(valuesFile));
  });

  it('passes helm lint --strict', async () => {
    const { stdout } = await run(helm, ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, '-f', join(chart, 'ci', valuesFile)]);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('renders as reviewed (snapshot)', async () => {
    expect(await render(valuesFile)).toMatchSnapshot();
  });

  it('runs every container non-root on a read-only root filesystem, with probes and resources', () => {
    const workloads = rendered.filter((d) => d.kind === 'Deployment' || d.kind === 'Job');
    expect(workloads.length).toBeGreaterThanOrEqual(4);
    for (const w of workloads) {
      const pod = (w.spec as { template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, any>[] } } }).template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.resources?.requests).toBeDefined();
        if (w.kind === 'Deployment') expect(c.readinessProbe && c.livenessProbe).toBeTruthy();
      }
    }
  });

  it('leaves the processor replica count to the operator when it autoscales', () => {
    const processor = rendered.find((d) => d.kind === 'Deployment' && d.metadata.name === 'plansync-processor')!;
    const autoscale = !valuesFile.startsWith('external-secrets');
    expect('replicas' in processor.spec!).toBe(!autoscale);
    const env = (processor.spec as any).template.spec.containers[0].env as { name: string }[];
    expect(env.map((e) => e.name)).toContain('DATABASE_URL');
  });

  it('grants the controller only what it needs, cluster-wide only without watchNamespaces', () => {
    const kinds = rendered.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
    if (valuesFile.startsWith('namespaced')) {
      expect(kinds.filter((k) => k.startsWith('ClusterRole'))).toEqual([]);
      expect(kinds).toEqual(expect.arrayContaining(['Role/team-a/plansync-controller', 'Role/team-b/plansync-controller', 'RoleBinding/team-a/plansync-controller']));
    } else {
      expect(kinds).toEqual(expect.arrayContaining(['ClusterRole//plansync-controller', 'ClusterRoleBinding//plansync-controller']));
    }
    const local = rendered.find((d) => d.kind === 'Role' && d.metadata.name === 'plansync-controller-local') as unknown as { rules: { resources: string[]; resourceNames?: string[] }[] };
    expect(local.rules.find((r) => r.resources.includes('deployments/scale'))!.resourceNames).toEqual(['plansync-processor']);
  });

  it('is accepted by the API server (server-side apply, dry run) for every manifest', async () => {
    const failures: string[] = [];
    for (const doc of rendered) {
      const obj = { ...doc, metadata: { ...doc.metadata, namespace: isClusterScoped(doc.kind!) ? undefined : (doc.metadata.namespace ?? NAMESPACE) } };
      try {
        await objects.patch(obj as KubernetesObject, undefined, 'All', 'plansync-chart-test', true, PatchStrategy.ServerSideApply);
      } catch (err) {
        failures.push(`${doc.kind}/${doc.metadata.name}: ${messageOf(err)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(rendered.length).toBeGreaterThan(10);
  });
});

const isClusterScoped = (kind: string) => ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(kind);

describe('chart guards', () => {
  it('ships the same CRD as crds/', () => {
    expect(readFileSync(join(chart, 'crds', 'plansync.dev_plansources.yaml'), 'utf8')).toBe(readFileSync(join(root, 'crds', 'plansync.dev_plansources.yaml'), 'utf8'));
  });

  it.each([
    [['--set', 'controller.watchNamespaces[0]=Not_A_Namespace'], "does not match pattern"],
    [['--set', 'processor.maxReplicas=-1'], 'minimum'],
    [['--set', 'database.existingSecret='], 'database.existingSecret or database.url is required'],
    [['--set', 'controller.leaderElection.enabled=false'], 'controller.replicas > 1 needs controller.leaderElection.enabled'],
    [['--set', 'otel.enabled=true'], 'otel.endpoint is required'],
  ])('rejects bad values with a clear message: %j', async (args, message) => {
    const err = await render('default-values.yaml', args).then(
      () => null,
      (e: { stderr: string }) => e,
    );
    expect(err?.stderr).toContain(message);
  });
});
