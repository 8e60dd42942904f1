// A real Kubernetes control plane for tests: etcd + kube-apiserver (built by test/env/build.sh into
// .testenv/bin) on loopback, with a generated service-account key, a static admin token and a
// kubeconfig. Plain JS so jest's global setup, the tests and `make testenv-up` can all use it.
//
//   node test/env/kube/kube-env.mjs up    # starts one and prints `export KUBECONFIG=...`
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN_DIR = resolve(here, '../../../.testenv/bin');

export function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function binary(name) {
  const p = join(BIN_DIR, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`make testenv\` (test/env/build.sh) first`);
  return p;
}

function startProcess(cmd, args, logFile) {
  const lines = [];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => {
    lines.push(chunk.toString());
    if (lines.length > 200) lines.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', () => {
    if (logFile) writeFileSync(logFile, lines.join(''));
  });
  return { child, tail: () => lines.join('').slice(-4000) };
}

async function stopProcess(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

function get(url, token) {
  return new Promise((res, rej) => {
    const req = https.get(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, rejectUnauthorized: false, timeout: 2000 }, (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => res({ status: r.statusCode, body }));
    });
    req.on('error', rej);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitUntil(check, timeoutMs, what, tail) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${timeoutMs} ms\n${tail?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startEtcd(dir) {
  const port = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const p = startProcess(binary('etcd'), [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=default=http://127.0.0.1:${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=error',
  ]);
  await waitUntil(
    () =>
      fetch(`${url}/health`)
        .then((r) => r.json())
        .then((j) => j.health === 'true'),
    30_000,
    'etcd',
    p.tail,
  );
  return { url, stop: () => stopProcess(p.child) };
}

/**
 * Starts a kube-apiserver on the given etcd. It can be stopped and started again on the same port
 * and storage (tests of watch recovery); several can share one etcd under different prefixes.
 */
export async function startApiserver({ etcdUrl, dir, etcdPrefix = '/registry', port }) {
  mkdirSync(dir, { recursive: true });
  const securePort = port ?? (await freePort());
  const token = randomBytes(24).toString('hex');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = join(dir, 'sa.key');
  writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(tokens, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const args = [
    `--etcd-servers=${etcdUrl}`,
    `--etcd-prefix=${etcdPrefix}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--secure-port=${securePort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=https://kubernetes.default.svc`,
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    `--token-auth-file=${tokens}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--enable-priority-and-fairness=false',
    '--v=0',
  ];
  const url = `https://127.0.0.1:${securePort}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${url}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: test
  context: { cluster: test, user: admin, namespace: default }
current-context: test
`,
  );
  let proc = null;
  const start = async () => {
    proc = startProcess(binary('kube-apiserver'), args, join(dir, 'apiserver.log'));
    const p = proc;
    let exited = false;
    p.child.once('exit', () => (exited = true));
    await waitUntil(
      async () => {
        if (exited) throw Object.assign(new Error('exited'), { fatal: true });
        const r = await get(`${url}/readyz`, token);
        return r.status === 200;
      },
      90_000,
      'kube-apiserver',
      p.tail,
    ).catch((err) => {
      throw new Error(`${err.message}${exited ? `\nkube-apiserver exited:\n${p.tail()}` : ''}`);
    });
  };
  await start();
  return {
    url,
    port: securePort,
    token,
    kubeconfig,
    /** Stops the server (SIGTERM, or SIGKILL for an abrupt loss); storage stays in etcd. */
    stop: (signal) => stopProcess(proc.child, signal),
    start,
  };
}

/** etcd + kube-apiserver in a fresh temp folder. */
export async function startKubeEnv() {
  const dir = mkdtempSync(join(tmpdir(), 'plansync-kube-'));
  const etcd = await startEtcd(dir);
  const apiserver = await startApiserver({ etcdUrl: etcd.url, dir: join(dir, 'apiserver') });
  return {
    dir,
    etcd,
    apiserver,
    kubeconfig: apiserver.kubeconfig,
    async stop() {
      await apiserver.stop();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates (or updates) every CRD in crds/ and waits until the API server serves it. */
export async function applyCrds(kubeconfig) {
  const { KubeConfig, KubernetesObjectApi, loadAllYaml } = await import('@kubernetes/client-node');
  const { readFileSync, readdirSync } = await import('node:fs');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const crdDir = resolve(here, '../../../crds');
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml'))) {
    for (const crd of loadAllYaml(readFileSync(join(crdDir, f), 'utf8'))) {
      // Server-side apply: create or update, and the server reports schema errors in the CRD itself.
      await api.patch(crd, undefined, undefined, 'plansync-tests', true, 'application/apply-patch+yaml');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = await api.read(crd);
        if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'up') {
  const env = await startKubeEnv();
  await applyCrds(env.kubeconfig);
  process.stdout.write(`export KUBECONFIG=${env.kubeconfig}\n# etcd ${env.etcd.url}; Ctrl-C stops both\n`);
  const down = () => env.stop().then(() => process.exit(0));
  process.on('SIGINT', down);
  process.on('SIGTERM', down);
}
