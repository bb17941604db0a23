import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envSource, resolveServerConfig } from '../../src/config/server-config.js';

/**
 * The Kubernetes manifests in deploy/kubernetes, checked without a cluster: every object against
 * the Kubernetes API schemas (the kubernetes-models package, Kubernetes 1.27) with unknown fields
 * refused too (a misspelt `readOnlyRootFilesystem` would silently not apply), and the properties
 * the deployment guide promises: probes, the admin listener kept off the public Service and the
 * ingress, a restricted security context, a drain shorter than the grace period, a configuration
 * the server accepts, and a projected service-account token for a secretless client.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const directory = join(root, 'deploy', 'kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
// The manifests' own shapes, as far as the checks below read them.
type Probe = { httpGet: { path: string; port: string } };
type Container = {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  envFrom?: ({ configMapRef: { name: string } } | { secretRef: { name: string } })[];
  env?: { name: string; value: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; runAsNonRoot?: boolean; capabilities: { drop: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodSpec = {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext: { runAsNonRoot: boolean; seccompProfile: { type: string } };
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; emptyDir?: object; projected?: { sources: { serviceAccountToken?: { path: string; audience: string; expirationSeconds: number } }[] } }[];
};
type Workload = Manifest & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
type Service = Manifest & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } };

function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((document) => {
    expect(document.errors, path).toEqual([]);
    return document.toJSON() as Manifest;
  });
}
const files = readdirSync(directory).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
const manifests = files.flatMap((name) => readManifests(join(directory, name)).map((manifest) => ({ file: name, manifest })));
const example = readManifests(join(directory, 'examples', 'secretless-client.yaml'));
const find = <T extends Manifest>(kind: string, name: string, from = manifests.map((entry) => entry.manifest)): T => {
  const found = from.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  expect(found, `${kind} ${name}`).toBeDefined();
  return found as T;
};

/**
 * kubernetes-models' validation of an apiVersion and kind (`apps/v1` Deployment: the Deployment
 * model of `kubernetes-models/apps/v1/Deployment`): its compiled JSON-schema validator, which throws
 * on an invalid object. Called on the object as it is (not on a model's copy), so the reads it
 * makes can be watched.
 */
type Validate = (data: object) => void;
async function schemaValidator(apiVersion: string, kind: string): Promise<Validate> {
  const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, { prototype: { validate(this: object): void } }>;
  const model = module[kind];
  expect(model, `kubernetes-models/${apiVersion}/${kind}`).toBeDefined();
  return (data) => model!.prototype.validate.call(data);
}

/**
 * Schema errors, and the fields of `value` the validator never looked at: the compiled validators
 * read each property their schema defines (and every key of a map), so a field left unread is one
 * the schema lacks.
 */
function validateStrictly(validate: Validate, value: object): { errors: string[]; unknownFields: string[] } {
  const reads = new Map<object, Set<string>>();
  const watch = <T>(object: T): T => {
    if (object === null || typeof object !== 'object') return object;
    const read = new Set<string>();
    reads.set(object, read);
    const children = new Map<string, unknown>();
    return new Proxy(object, {
      get(target, key, receiver) {
        if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return Reflect.get(target, key, receiver) as unknown;
        read.add(key);
        if (!children.has(key)) children.set(key, watch((target as Record<string, unknown>)[key]));
        return children.get(key);
      },
    });
  };
  const errors: string[] = [];
  try {
    validate(watch(value));
  } catch (error) {
    errors.push((error as Error).message);
  }
  const unknownFields: string[] = [];
  const walk = (object: unknown, path: string) => {
    if (object === null || typeof object !== 'object') return;
    for (const [key, child] of Object.entries(object)) {
      const isTypeMeta = path === '' && (key === 'apiVersion' || key === 'kind');
      if (!Array.isArray(object) && !isTypeMeta && !reads.get(object)?.has(key)) unknownFields.push(`${path}/${key}`);
      walk(child, `${path}/${key}`);
    }
  };
  walk(value, '');
  return { errors, unknownFields };
}

describe('deploy/kubernetes: every object is valid against the Kubernetes API schema', () => {
  it('kustomization.yaml lists every manifest in the folder', () => {
    const kustomization = readManifests(join(directory, 'kustomization.yaml'))[0] as unknown as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  for (const { file, manifest } of [...manifests, ...example.map((manifest) => ({ file: 'examples/secretless-client.yaml', manifest }))]) {
    it(`${file}: ${manifest.kind} ${manifest.metadata.name}`, async () => {
      const result = validateStrictly(await schemaValidator(manifest.apiVersion, manifest.kind), manifest);
      expect(result.errors).toEqual([]);
      expect(result.unknownFields).toEqual([]);
    });
  }

  it('the strict check catches what the schema alone lets through: a misspelt field and a wrong type', async () => {
    const deployment = structuredClone(find<Workload>('Deployment', 'm2m-auth'));
    const container = deployment.spec.template.spec.containers[0]! as unknown as Record<string, unknown>;
    container.securityContext = { ...(container.securityContext as object), readOnlyRootFileSystem: true };
    const validate = await schemaValidator('apps/v1', 'Deployment');
    expect(validateStrictly(validate, deployment).unknownFields).toEqual(['/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem']);
    (deployment.spec as Record<string, unknown>).replicas = 'three';
    expect(validateStrictly(validate, deployment).errors).toEqual([expect.stringContaining('data/spec/replicas must be integer')]);
  });
});

describe('deploy/kubernetes: what the deployment guide promises', () => {
  const deployment = find<Workload>('Deployment', 'm2m-auth');
  const pod = deployment.spec.template.spec;
  const server = pod.containers.find((container) => container.name === 'm2m-auth')!;
  const configMap = find<Manifest & { data: Record<string, string> }>('ConfigMap', 'm2m-auth');
  const secret = find<Manifest & { stringData: Record<string, string> }>('Secret', 'm2m-auth');
  const port = (name: string) => server.ports!.find((candidate) => candidate.name === name)!.containerPort;

  it('puts every object in the m2m-auth namespace, and the pods under the Service, the PDB and the NetworkPolicy', () => {
    for (const { manifest } of manifests) if (manifest.kind !== 'Namespace') expect(manifest.metadata.namespace, manifest.kind).toBe('m2m-auth');
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    expect(selects(find<Service>('Service', 'm2m-auth').spec.selector)).toBe(true);
    expect(selects(find<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'm2m-auth').spec.selector.matchLabels)).toBe(true);
    expect(selects(find<Manifest & { spec: { podSelector: { matchLabels: Record<string, string> } } }>('NetworkPolicy', 'm2m-auth').spec.podSelector.matchLabels)).toBe(true);
  });

  it('probes liveness at /healthz and readiness at /readyz on the OAuth port', () => {
    expect(server.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(server.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(server.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(port('http')).toBe(8080);
  });

  it('keeps the admin listener off the public Service and the ingress; only its own Service and labelled pods reach it', () => {
    expect(Number(configMap.data.M2M_AUTH_ADMIN_PORT)).toBe(port('admin'));
    const publicService = find<Service>('Service', 'm2m-auth');
    expect(publicService.spec.ports.map((servicePort) => servicePort.targetPort)).toEqual(['http']);
    expect(find<Service>('Service', 'm2m-auth-admin').spec.ports.map((servicePort) => servicePort.targetPort)).toEqual(['admin']);
    const ingress = find<Manifest & { spec: { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] } }>(
      'Ingress',
      'm2m-auth',
    );
    const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths);
    expect(paths.map((path) => path.path)).toEqual(['/oauth/', '/.well-known/']);
    for (const path of paths) expect(path.backend.service).toEqual({ name: 'm2m-auth', port: { name: 'http' } });
    const policy = find<Manifest & { spec: { ingress: { from?: unknown[]; ports: { port: string }[] }[] } }>('NetworkPolicy', 'm2m-auth');
    const adminRule = policy.spec.ingress.find((rule) => rule.ports.some((rulePort) => rulePort.port === 'admin'))!;
    expect(adminRule.from).toEqual([{ namespaceSelector: {}, podSelector: { matchLabels: { 'm2m-auth/admin-access': 'true' } } }]);
  });

  it('runs non-root on a read-only root file system, without privileges, a service-account token or writes outside its volumes', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find<Manifest & { automountServiceAccountToken: boolean }>('ServiceAccount', pod.serviceAccountName).automountServiceAccountToken).toBe(false);
    // Where the image keeps its data directory (deploy/Dockerfile), and /tmp: mounted, since the root is read-only.
    const dataDir = /M2M_AUTH_DATA_DIR=(\S+)/.exec(readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8'))![1];
    for (const container of [...pod.initContainers!, ...pod.containers]) {
      expect(container.securityContext, container.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.volumeMounts!.map((mount) => mount.mountPath).sort(), container.name).toEqual(['/tmp', dataDir].sort());
    }
    for (const volume of pod.volumes) expect(volume.emptyDir, volume.name).toBeDefined();
  });

  it('drains on SIGTERM for less than the grace period, and migrates before serving', () => {
    const drainSeconds = resolveServerConfig({}, { ...configMap.data, M2M_AUTH_DATABASE_URL: 'postgres://db/m2m' }).shutdownDrainSeconds;
    expect(drainSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drainSeconds + 10);
    // The image's entry point is the CLI (deploy/Dockerfile): its arguments are a command.
    expect(readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8')).toMatch(/^ENTRYPOINT .*exec node packages\/server\/bin\/m2m-auth\.js/m);
    expect(pod.initContainers!.map((container) => container.args)).toEqual([['migrate']]);
    expect(server.args).toBeUndefined();
    for (const container of [...pod.initContainers!, ...pod.containers]) {
      expect(container.envFrom, container.name).toEqual([{ configMapRef: { name: 'm2m-auth' } }, { secretRef: { name: 'm2m-auth' } }]);
    }
  });

  it('configures the server only with settings it knows, which it accepts', () => {
    const environment = { ...configMap.data, ...secret.stringData };
    // Read by the server directly rather than through the serve configuration.
    const readDirectly = new Set(['M2M_AUTH_MASTER_KEY', 'M2M_AUTH_BOOTSTRAP_ADMIN_SECRET', 'OTEL_SERVICE_NAME']);
    const known = Object.keys(environment).filter((name) => readDirectly.has(name) || Object.keys(envSource({ [name]: 'x' })).length === 1);
    expect(known.sort()).toEqual(Object.keys(environment).sort());
    const config = resolveServerConfig({}, environment);
    expect(config).toMatchObject({
      issuer: 'https://auth.example.com',
      adminApi: { host: '0.0.0.0', port: 8081 },
      metrics: true,
      trustProxy: 1,
      database: { url: secret.stringData.M2M_AUTH_DATABASE_URL },
    });
    // The template's master key is a placeholder the server refuses, so it cannot start on it.
    expect(Buffer.from(secret.stringData.M2M_AUTH_MASTER_KEY!, 'base64url')).not.toHaveLength(32);
  });

  it('shows a secretless client: a projected service-account token for the m2m-auth issuer, mounted read-only where the SDK reads it', () => {
    const client = find<Workload>('Deployment', 'orders-worker', example).spec.template.spec;
    expect(client.automountServiceAccountToken).toBe(false);
    expect(find<Manifest>('ServiceAccount', client.serviceAccountName, example).metadata.namespace).toBe('orders');
    const volume = client.volumes.find((candidate) => candidate.projected)!;
    const projected = volume.projected!.sources[0]!.serviceAccountToken!;
    expect(projected.audience).toBe(configMap.data.M2M_AUTH_ISSUER);
    expect(projected.expirationSeconds).toBeGreaterThanOrEqual(600);
    const worker = client.containers[0]!;
    const mount = worker.volumeMounts!.find((candidate) => candidate.name === volume.name)!;
    expect(mount.readOnly).toBe(true);
    const env = Object.fromEntries(worker.env!.map(({ name, value }) => [name, value]));
    expect(env.M2M_AUTH_CLIENT_ASSERTION_FILE).toBe(`${mount.mountPath}/${projected.path}`);
    expect(env.M2M_AUTH_ISSUER).toBe(configMap.data.M2M_AUTH_ISSUER);
  });
});
