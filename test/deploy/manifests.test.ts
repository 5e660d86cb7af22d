import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

// The deploy files are checked as data: the fields that decide whether a pod starts, drains and
// stays safe. (No container engine or cluster here: nothing is built or applied.)
const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const K8S = join(DEPLOY, 'k8s');

type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => d.toJS() as Doc));
const find = (kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind}/${name} is defined`);
  return doc;
};
const configMap = find('ConfigMap', 'pronto');
const config = loadConfig({ env: {}, file: undefined, overrides: parse(configMap.data['pronto.yaml']) });

describe('k8s manifests', () => {
  test('the ConfigMap is a valid pronto config', () => {
    assert.equal(config.server.drain_ms, 5000);
  });

  for (const name of ['pronto-api', 'pronto-worker']) {
    test(`${name}: non-root, read-only root fs, no capabilities, writable /data and /tmp`, () => {
      const pod = find('Deployment', name).spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(pod.securityContext.runAsUser > 0);
      const [container] = pod.containers;
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      const mounts = new Map(container.volumeMounts.map((m: Doc) => [m.mountPath, m.name]));
      for (const path of ['/data', '/tmp', '/etc/pronto']) assert.ok(mounts.has(path), `${path} is mounted`);
      const volumes = new Map(pod.volumes.map((v: Doc) => [v.name, v]));
      for (const volume of mounts.values()) assert.ok(volumes.has(volume), `volume ${volume} is defined`);
      // Both tiers read the one shared index.
      assert.equal((volumes.get(mounts.get('/data')) as Doc).persistentVolumeClaim.claimName, 'pronto-index');
      assert.deepEqual(find('PersistentVolumeClaim', 'pronto-index').spec.accessModes, ['ReadWriteMany']);
      for (const env of container.env.filter((e: Doc) => e.valueFrom?.secretKeyRef)) {
        const ref = env.valueFrom.secretKeyRef;
        assert.ok(find('Secret', ref.name).stringData[ref.key], `the example Secret holds ${ref.key}`);
      }
      const pdb = find('PodDisruptionBudget', name);
      assert.deepEqual(pdb.spec.selector.matchLabels, find('Deployment', name).spec.selector.matchLabels);
    });
  }

  test('api: startup and readiness on /readyz, preStop, and time to drain before the kill', () => {
    const pod = find('Deployment', 'pronto-api').spec.template.spec;
    const [container] = pod.containers;
    assert.equal(container.startupProbe.httpGet.path, '/readyz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    const preStopS = container.lifecycle.preStop.sleep.seconds;
    assert.ok(preStopS > 0);
    const neededS = preStopS + (config.server.drain_ms + config.server.shutdown_grace_ms) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds > neededS, `${pod.terminationGracePeriodSeconds} s > ${neededS} s`);
    assert.ok(container.args.includes('/etc/pronto/pronto.yaml'));
  });

  test('worker: time to finish or hand back its jobs before the kill', () => {
    const pod = find('Deployment', 'pronto-worker').spec.template.spec;
    assert.ok(pod.terminationGracePeriodSeconds > config.server.shutdown_grace_ms / 1000 + 3);
  });

  test('autoscaling: api on CPU, workers on queue depth', () => {
    const hpa = find('HorizontalPodAutoscaler', 'pronto-api');
    assert.equal(hpa.spec.scaleTargetRef.name, 'pronto-api');
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
    const scaled = find('ScaledObject', 'pronto-worker');
    assert.equal(scaled.spec.scaleTargetRef.name, 'pronto-worker');
    assert.match(scaled.spec.triggers[0].metadata.query, /pronto_job_queue_depth\{state="queued"\}/);
  });

  test('Redis keeps an fsynced AOF on a persistent volume', () => {
    const redis = find('StatefulSet', 'pronto-redis');
    const args: string[] = redis.spec.template.spec.containers[0].args;
    assert.equal(args[args.indexOf('--appendonly') + 1], 'yes');
    assert.equal(args[args.indexOf('--appendfsync') + 1], 'always');
    assert.equal(redis.spec.volumeClaimTemplates[0].metadata.name, redis.spec.template.spec.containers[0].volumeMounts[0].name);
  });

  test('kubeconform accepts them, where it is installed', (t) => {
    const probe = spawnSync('kubeconform', ['-v']);
    if (probe.error) return t.skip('kubeconform is not installed');
    const files = readdirSync(K8S).map((f) => join(K8S, f));
    const run = spawnSync('kubeconform', ['-strict', '-summary', '-ignore-missing-schemas', ...files], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
});

describe('image and compose', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');

  test('Dockerfile: multi-stage, runs the build (with the .proto files), no optional backends, non-root, /data writable, HEALTHCHECK, bench included', () => {
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
    assert.match(dockerfile, /^RUN npm run build$/m);
    assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
    // Production dependencies only; --omit=optional would also drop LanceDB's native binary.
    assert.match(dockerfile, /npm ci --omit=dev /);
    assert.doesNotMatch(dockerfile, /^RUN npm ci .*--omit=optional/m);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.doesNotMatch(runtime, /^COPY src /m, 'the runtime image runs dist/, not the TypeScript sources');
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /mkdir -p \/data && chown node:node \/data/);
    assert.match(dockerfile, /^HEALTHCHECK .*\n?.*\/healthz/m);
    assert.match(dockerfile, /^COPY bench \.\/bench$/m);
    assert.match(dockerfile.slice(0, dockerfile.indexOf('RUN npm run build')), /^COPY proto \.\/proto$/m, 'the build copies the .proto files the gRPC front loads into dist/');
    // Everything the Dockerfile copies from the context survives .dockerignore.
    const allowed = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    for (const source of copied) assert.ok(allowed.includes(source.replace(/\/$/, '')), `${source} is in the build context`);
  });

  test('compose: nginx in front of api and worker replicas on one index, Redis AOF on a volume', () => {
    const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }) as Doc;
    const { api, worker, nginx, redis } = compose.services;
    assert.ok(nginx.volumes.some((v: string) => v.includes('nginx.conf')));
    assert.match(readFileSync(join(DEPLOY, 'nginx/nginx.conf'), 'utf8'), /server api:8080 resolve/);
    for (const service of [api, worker]) {
      assert.equal(service.read_only, true);
      assert.deepEqual(service.cap_drop, ['ALL']);
      assert.ok(service.volumes.includes('index:/data'));
      assert.equal(service.environment.REDIS_URL, 'redis://redis:6379');
    }
    assert.equal(worker.healthcheck.disable, true, 'workers serve no HTTP');
    assert.ok(redis.command.includes('--appendonly') && redis.volumes.includes('redis:/data'));
    const composeConfig = loadConfig({ env: {}, overrides: parse(readFileSync(join(DEPLOY, 'pronto.compose.yaml'), 'utf8')) });
    assert.ok(composeConfig.server.drain_ms > 0);
  });
});
