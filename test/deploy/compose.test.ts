import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { composeNatsServerConfig } from '../../common/nats-server-config';
import { CONSUMER_USERS, NATS_USERS, natsPasswordVariable, natsScope } from '../../common/nats-users';
import { compiledEntry, PROCESSES } from '../../common/processes';
import { orderSearchAttributes } from '../../common/search-attributes';
import { check, healthcheckUrl } from '../../scripts/healthcheck';

/**
 * docker-compose.yml, the Dockerfile and the scripts they run, checked without Docker: the files
 * are parsed and held to what the deployment promises (pinned images, start-up order, no default
 * secrets, one image for all of our processes, ...); the Temporal setup scripts run against stub
 * CLIs; the container health check runs against a local HTTP server.
 */
const repo = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(repo, file), 'utf8');

/** A YAML parser with merge keys (`<<: *app`), as compose reads them: `yaml` if installed, else js-yaml. */
function parseYaml(text: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const yaml = require('yaml') as { parse(src: string, options: object): unknown };
    return yaml.parse(text, { merge: true, maxAliasCount: -1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jsYaml = require('js-yaml') as { load(src: string): unknown };
  return jsYaml.load(text);
}

type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: Condition }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parseYaml(composeText) as Compose;
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const APP_IMAGE = 'order-orchestrator:local';
/** The superuser's (role job, Temporal) and one per service role (deploy/postgres/roles.sql). */
const DATABASE_PASSWORDS = ['POSTGRES_PASSWORD', 'ORDERS_OWNER_DB_PASSWORD', 'ORDERS_APP_DB_PASSWORD', 'INVENTORY_DB_PASSWORD', 'PAYMENT_DB_PASSWORD'];
const ADMIN_TOOLS = 'temporalio/admin-tools';

describe('docker-compose.yml', () => {
  it('pins every image to a version tag (no latest, no tagless image)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({ name, image: expect.any(String) });
      const ref = s.image!;
      const digest = ref.includes('@sha256:');
      const tag = ref.slice(ref.lastIndexOf('/') + 1).split(':')[1];
      expect({ name, pinned: digest || (tag !== undefined && tag !== '' && tag !== 'latest') }).toEqual({ name, pinned: true });
    }
    expect(composeText).not.toMatch(/:latest\b/);
  });

  it('runs Temporal from the maintained images: server, admin-tools jobs and UI, no auto-setup', () => {
    expect(composeText).not.toContain('auto-setup');
    const version = (image: string) => image.split(':')[1];
    const temporal = service('temporal');
    expect(temporal.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', BIND_ON_IP: '0.0.0.0' });
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    for (const job of ['temporal-schema', 'temporal-setup']) {
      // The admin-tools image carries the schema of its own version: keep it equal to the server's.
      expect(service(job).image).toBe(`${ADMIN_TOOLS}:${version(temporal.image!)}`);
      expect(service(job).volumes).toContain('./deploy/temporal:/deploy/temporal:ro');
    }
    expect(service('temporal-schema').command).toEqual(['/bin/sh', '/deploy/temporal/schema.sh']);
    expect(service('temporal-setup').command).toEqual(['/bin/sh', '/deploy/temporal/setup.sh']);
    const dynamicConfig = temporal.environment!.DYNAMIC_CONFIG_FILE_PATH;
    expect(temporal.volumes).toContain(`./deploy/temporal/dynamicconfig.yaml:${dynamicConfig}:ro`);
    expect(existsSync(join(repo, 'deploy/temporal/dynamicconfig.yaml'))).toBe(true);
  });

  it('has a service per process of common/processes.ts, named after it, running its compiled entry point', () => {
    for (const spec of PROCESSES) {
      const s = service(spec.name);
      expect({ name: spec.name, command: s.command }).toEqual({ name: spec.name, command: ['node', compiledEntry(spec)] });
      expect({ name: spec.name, image: s.image }).toEqual({ name: spec.name, image: APP_IMAGE });
      // PROCESS tells the image's health check which port to ask (scripts/healthcheck.ts).
      expect({ name: spec.name, PROCESS: s.environment?.PROCESS }).toEqual({ name: spec.name, PROCESS: spec.name });
      if ('metricsPort' in spec) {
        expect({ name: spec.name, METRICS_PORT: s.environment?.METRICS_PORT }).toEqual({ name: spec.name, METRICS_PORT: String(spec.metricsPort) });
      }
    }
    expect(service('migrate').command).toEqual(['node', 'dist/prisma/migrate.js']);
  });

  it('builds the one image once: only migrate has build:, every user of the image starts after it', () => {
    const builders = Object.entries(services).filter(([, s]) => s.build !== undefined).map(([name]) => name);
    expect(builders).toEqual(['migrate']);
    expect(service('migrate').build).toBe('.');
    expect(service('migrate').image).toBe(APP_IMAGE);
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== APP_IMAGE || name === 'migrate') continue;
      expect({ name, migrate: s.depends_on?.migrate?.condition }).toEqual({ name, migrate: 'service_completed_successfully' });
    }
  });

  it('starts things in order through depends_on conditions', () => {
    const dependsOn = (name: string) => Object.fromEntries(Object.entries(service(name).depends_on ?? {}).map(([dep, { condition }]) => [dep, condition]));
    expect(dependsOn('migrate')).toEqual({ postgres: 'service_healthy', 'postgres-roles': 'service_completed_successfully' });
    expect(dependsOn('postgres-roles')).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn('temporal-schema')).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn('temporal-setup')).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn('temporal-ui')).toEqual({ temporal: 'service_healthy' });
    for (const name of ['worker', 'api']) {
      expect(dependsOn(name)).toMatchObject({ 'temporal-setup': 'service_completed_successfully', inventory: 'service_healthy' });
    }
    expect(dependsOn('worker')).toMatchObject({ payment: 'service_healthy' });
    for (const name of ['relay', 'email', 'analytics']) expect(dependsOn(name)).toMatchObject({ nats: 'service_healthy' });
    expect(dependsOn('email')).toMatchObject({ mailpit: 'service_healthy' });

    // Every service waited for as healthy has a health check, and every depends_on names a service.
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect({ name, dep, exists: dep in services }).toEqual({ name, dep, exists: true });
        if (condition === 'service_healthy') {
          const hc = service(dep).healthcheck;
          expect({ dep, healthcheck: Boolean(hc?.test?.length) && !hc?.disable }).toEqual({ dep, healthcheck: true });
        }
      }
    }
    expect(service('postgres').healthcheck!.test!.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(service('inventory').healthcheck!.test).toEqual(['CMD', 'node', '/app/dist/scripts/healthcheck.js']);
  });

  it('keeps JetStream and Postgres data in named volumes, with the durable nats-server.conf mounted', () => {
    const natsConf = read('deploy/nats-server.conf');
    const storeDir = natsConf.match(/store_dir:\s*(\S+)/)![1];
    const monitorPort = natsConf.match(/http_port:\s*(\d+)/)![1];
    expect(natsConf).toMatch(/sync_interval:\s*always/);
    const nats = service('nats');
    expect(nats.image).toMatch(/^nats:2\.\d+(\.\d+)?-alpine$/); // the alpine image has wget for the health check
    expect(nats.volumes).toEqual(expect.arrayContaining(['./deploy/nats-server.conf:/etc/nats/nats-server.conf:ro', `nats-jetstream:${storeDir}`]));
    expect(nats.command).toEqual(['nats-server', '--config', '/etc/nats/nats-server.conf']);
    expect(nats.healthcheck!.test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${monitorPort}/healthz`]);
    expect(service('postgres').volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['grafana-data', 'nats-jetstream', 'postgres-data', 'prometheus-data']);
  });

  it('publishes only the API, the Temporal UI, Mailpit, Jaeger\'s UI and Grafana, on localhost', () => {
    const published = Object.fromEntries(Object.entries(services).filter(([, s]) => s.ports?.length).map(([name, s]) => [name, s.ports]));
    expect(published).toEqual({
      api: ['127.0.0.1:3000:3000'],
      'temporal-ui': ['127.0.0.1:8233:8080'],
      mailpit: ['127.0.0.1:8025:8025'],
      jaeger: ['127.0.0.1:16686:16686'],
      grafana: ['127.0.0.1:3300:3000'],
    });
    for (const name of ['postgres', 'nats', 'temporal']) expect(service(name).ports).toBeUndefined();
    expect(composeText).not.toMatch(/^\s*expose:/m);
  });

  it('has no default secrets: each comes from a variable compose refuses to run without', () => {
    for (const literal of ['postgres:postgres@', 'POSTGRES_PASSWORD: postgres', 'POSTGRES_PWD: postgres', 'dev-webhook-secret', ':-']) {
      expect(composeText).not.toContain(literal);
    }
    const required = (variable: string) => new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`);
    // Every mention of a secret variable is the ${VAR:?message} form.
    for (const variable of [...DATABASE_PASSWORDS, 'PAYMENT_WEBHOOK_SECRET', 'TEMPORAL_CODEC_KEYS']) {
      const mentions = composeText.match(new RegExp(`\\$\\{${variable}(?=[:}])[^}]*\\}`, 'g')) ?? [];
      expect(mentions.length).toBeGreaterThan(0);
      for (const m of mentions) expect(m).toMatch(required(variable));
    }
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        // The one optional secret: empty except while the webhook secret is rotated.
        if (key === 'PAYMENT_WEBHOOK_SECRET_PREVIOUS') expect({ name, value }).toEqual({ name: 'api', value: '${PAYMENT_WEBHOOK_SECRET_PREVIOUS}' });
        else if (/PASSWORD|PWD|SECRET/.test(key)) expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/) });
        if (key === 'DATABASE_URL') expect(value).toMatch(/^postgresql:\/\/\w+:\$\{[A-Z_]+_DB_PASSWORD:\?[^}]+\}@postgres:5432\/orders$/);
      }
    }
    expect(service('postgres').environment!.POSTGRES_PASSWORD).toMatch(required('POSTGRES_PASSWORD'));
    for (const name of ['api', 'payment']) expect(service(name).environment!.PAYMENT_WEBHOOK_SECRET).toMatch(required('PAYMENT_WEBHOOK_SECRET'));
    for (const name of ['worker', 'relay', 'email', 'analytics', 'inventory']) expect(service(name).environment!.PAYMENT_WEBHOOK_SECRET).toBeUndefined();
    for (const name of ['api', 'worker']) expect(service(name).environment!.TEMPORAL_CODEC_KEYS).toMatch(required('TEMPORAL_CODEC_KEYS'));
    for (const name of ['relay', 'email', 'analytics', 'inventory', 'payment']) expect(service(name).environment!.TEMPORAL_CODEC_KEYS).toBeUndefined();
  });

  it('gives each caller of a peer its own token, required like every secret, and no peer test mode', () => {
    const required = (variable: string) => `\${${variable}:?set ${variable} in .env (see .env.example)}`;
    for (const variable of ['INVENTORY_TOKEN_API', 'INVENTORY_TOKEN_WORKER', 'PAYMENT_TOKEN_API', 'PAYMENT_TOKEN_WORKER']) {
      const mentions = composeText.match(new RegExp(`\\$\\{${variable}[^}]*\\}`, 'g')) ?? [];
      expect({ variable, mentions: mentions.length }).toEqual({ variable, mentions: 2 });
      for (const m of mentions) expect(m).toBe(required(variable));
      expect(read('.env.example')).toMatch(new RegExp(`^${variable}=$`, 'm'));
    }
    expect(service('inventory').environment!.INVENTORY_CALLER_TOKENS).toBe(`api:${required('INVENTORY_TOKEN_API')},worker:${required('INVENTORY_TOKEN_WORKER')}`);
    expect(service('payment').environment!.PAYMENT_CALLER_TOKENS).toBe(`api:${required('PAYMENT_TOKEN_API')},worker:${required('PAYMENT_TOKEN_WORKER')}`);
    expect(service('api').environment!.INVENTORY_TOKEN).toBe(required('INVENTORY_TOKEN_API'));
    expect(service('api').environment!.PAYMENT_TOKEN).toBe(required('PAYMENT_TOKEN_API'));
    expect(service('worker').environment).toMatchObject({ INVENTORY_TOKEN: required('INVENTORY_TOKEN_WORKER'), PAYMENT_TOKEN: required('PAYMENT_TOKEN_WORKER') });
    for (const name of ['relay', 'email', 'analytics']) expect(Object.keys(service(name).environment!).filter((k) => /TOKEN/.test(k))).toEqual([]);
    expect(composeText).not.toContain('SERVICE_TEST_MODE');
  });

  it('runs NATS with our users: deploy/nats-server.conf is what common/nats-users.ts writes, each password from .env', () => {
    // Regenerate with: npm run ops -- nats server-config > deploy/nats-server.conf
    expect(read('deploy/nats-server.conf')).toBe(composeNatsServerConfig(natsScope(loadConfig({}))));
    const required = (variable: string) => new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`);
    const natsEnv = service('nats').environment!;
    expect(Object.keys(natsEnv).sort()).toEqual(NATS_USERS.map(natsPasswordVariable).sort());
    for (const user of NATS_USERS) expect(natsEnv[natsPasswordVariable(user)]).toMatch(required(natsPasswordVariable(user)));
  });

  it('connects each NATS client as its own user, and sets the streams up as admin before the relay and consumers start', () => {
    const required = (variable: string) => new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`);
    const natsUserOf: Record<string, string> = { api: 'inspector', relay: 'relay', ...Object.fromEntries(CONSUMER_USERS.map((u) => [u, u])), 'nats-setup': 'admin' };
    for (const [name, s] of Object.entries(services)) {
      const env = s.environment ?? {};
      const user = natsUserOf[name];
      if (user === undefined) {
        // Processes without NATS get no NATS credentials at all.
        expect({ name, NATS_USER: env.NATS_USER, NATS_PASSWORD: env.NATS_PASSWORD }).toEqual({ name, NATS_USER: undefined, NATS_PASSWORD: undefined });
        continue;
      }
      expect({ name, NATS_USER: env.NATS_USER }).toEqual({ name, NATS_USER: user });
      expect(env.NATS_PASSWORD).toMatch(required(natsPasswordVariable(user as (typeof NATS_USERS)[number])));
    }
    expect(service('nats-setup').command).toEqual(['node', 'dist/scripts/ops/index.js', 'nats', 'setup']);
    expect(service('nats-setup').depends_on).toMatchObject({ nats: { condition: 'service_healthy' } });
    for (const name of ['relay', ...CONSUMER_USERS]) expect(service(name).depends_on).toMatchObject({ 'nats-setup': { condition: 'service_completed_successfully' } });
  });

  it('gives each service its own Postgres role with only its own schema, created by a job before the migrations', () => {
    const databaseUser = (name: string) => new URL(service(name).environment!.DATABASE_URL!.replace(/\$\{[^}]+\}/, 'x')).username;
    expect(databaseUser('migrate')).toBe('orders_owner');
    for (const name of ['api', 'worker', 'relay', 'email', 'analytics']) expect({ name, user: databaseUser(name) }).toEqual({ name, user: 'orders_app' });
    expect(databaseUser('inventory')).toBe('inventory');
    expect(databaseUser('payment')).toBe('payment');
    // No process of ours connects as the superuser, nor with another service's password.
    for (const [name, s] of Object.entries(services)) {
      if (s.image !== APP_IMAGE) continue;
      expect({ name, env: JSON.stringify(s.environment) }).not.toEqual({ name, env: expect.stringMatching(/POSTGRES_PASSWORD|postgresql:\/\/postgres:/) });
      // A process without a database (nats-setup) gets no database password at all.
      const own = s.environment?.DATABASE_URL ? `${databaseUser(name).toUpperCase()}_DB_PASSWORD` : undefined;
      for (const other of DATABASE_PASSWORDS.filter((p) => p !== own)) {
        expect({ name, other, mentions: JSON.stringify(s.environment).includes(other) }).toEqual({ name, other, mentions: false });
      }
    }
    // The job runs deploy/postgres/roles.sql (tested against a real Postgres in postgres-roles.test.ts) with every role's password.
    const roles = service('postgres-roles');
    expect(roles.image).toBe(service('postgres').image);
    expect(roles.volumes).toEqual(['./deploy/postgres:/deploy/postgres:ro']);
    const command = roles.command!.join(' ');
    expect(command).toContain('-f /deploy/postgres/roles.sql');
    for (const variable of ['orders_owner', 'orders_app', 'inventory', 'payment']) expect(command).toContain(`-v ${variable}_password="$$${variable.toUpperCase()}_DB_PASSWORD"`); // $$: compose's escape for $
    const sql = read('deploy/postgres/roles.sql');
    for (const variable of ['orders_owner', 'orders_app', 'inventory', 'payment']) expect(sql).toContain(`:'${variable}_password'`);
  });

  it('.env.example names every secret without giving it a value, and the header says how to start', () => {
    const example = read('.env.example');
    for (const variable of [...DATABASE_PASSWORDS, 'PAYMENT_WEBHOOK_SECRET', 'PAYMENT_WEBHOOK_SECRET_PREVIOUS']) expect(example).toMatch(new RegExp(`^${variable}=$`, 'm'));
    for (const user of NATS_USERS) expect(example).toMatch(new RegExp(`^${natsPasswordVariable(user)}=$`, 'm'));
    expect(example).toMatch(/^TEMPORAL_CODEC_KEYS=$/m);
    const header = composeText.slice(0, composeText.indexOf('\nname:'));
    expect(header).toContain('cp .env.example .env');
    expect(header).toContain('docker compose up --build');
  });

  it('seeds the sample catalog and wires the processes to each other', () => {
    expect(service('inventory').environment!.INVENTORY_SEED_SAMPLE_CATALOG).toBe('true');
    const env = service('worker').environment!;
    expect(env).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', NATS_URL: 'nats://nats:4222', SMTP_URL: 'smtp://mailpit:1025', INVENTORY_URL: 'http://inventory:3001', PAYMENT_URL: 'http://payment:3002' });
    expect(service('payment').environment!.PAYMENT_WEBHOOK_URL).toBe('http://api:3000/webhooks/payments');
    // The Web UI decodes through the API's codec server, which allows the UI's origin.
    expect(service('temporal-ui').environment).toMatchObject({ TEMPORAL_CODEC_ENDPOINT: 'http://localhost:3000/codec', TEMPORAL_CODEC_INCLUDE_CREDENTIALS: 'true' });
    expect(service('api').environment!.TEMPORAL_UI_ORIGIN).toBe('http://localhost:8233,http://127.0.0.1:8233');
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(instructions.filter((l) => /^ARG \w+=/.test(l)).map((l) => l.slice(4).split('=') as [string, string]));
  const resolve = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
  const froms = instructions.filter((l) => l.startsWith('FROM ')).map((l) => resolve(l));
  const lastStage = instructions.slice(instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

  it('is multi-stage on Node.js 24, bookworm-slim', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:24(\.\d+){0,2}-bookworm-slim AS \w+$/);
  });

  it('builds with the full install and runs on production dependencies only, without install scripts', () => {
    expect(instructions).toContain('RUN npm run build');
    expect(text).toMatch(/npm ci --no-audit/);
    const runtimeInstall = lastStage.find((l) => l.includes('npm ci'));
    expect(runtimeInstall).toMatch(/npm ci --omit=dev\b/);
    expect(runtimeInstall).toContain('--ignore-scripts');
    expect(lastStage).toContain('COPY --from=build /app/dist ./dist');
    expect(lastStage.some((l) => /^COPY \. /.test(l))).toBe(false);
  });

  it('runs as a non-root user under tini, with NODE_ENV=production and HTTP_HOST=0.0.0.0', () => {
    const user = lastStage.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user!.slice(5).trim()).not.toMatch(/^(root|0)(:|$)/);
    expect(lastStage.some((l) => /apt-get install .*\btini\b/.test(l))).toBe(true);
    expect(lastStage).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    const env = lastStage.filter((l) => l.startsWith('ENV ')).join(' ');
    expect(env).toContain('NODE_ENV=production');
    expect(env).toContain('HTTP_HOST=0.0.0.0');
  });

  it('has a HEALTHCHECK running the compiled health check, and runs the API by default', () => {
    const healthcheck = lastStage.find((l) => l.startsWith('HEALTHCHECK '));
    expect(healthcheck).toMatch(/CMD \["node", "\/app\/dist\/scripts\/healthcheck\.js"\]$/);
    const api = PROCESSES.find((p) => p.name === 'api')!;
    expect(lastStage.at(-1)).toBe(`CMD ["node", "${compiledEntry(api)}"]`);
    expect(read('tsconfig.build.json')).toContain('"scripts/healthcheck.ts"');
  });

  it('.dockerignore keeps local installs, builds, data and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', 'generated', '.data', '.git', '.env', 'test-results.json', 'logs']) expect(ignored).toContain(entry);
  });
});

describe('Temporal setup scripts (against stub CLIs)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'temporal-scripts-'));
    mkdirSync(join(dir, 'bin'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  };
  const run = (script: string, env: Record<string, string>) =>
    spawnSync('sh', [join(repo, 'deploy/temporal', script)], {
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, STATE: dir, ...env },
      encoding: 'utf8',
    });

  it('schema.sh creates and migrates both databases with temporal-sql-tool', () => {
    stub('temporal-sql-tool', 'echo "$*" >> "$STATE/calls"');
    const res = run('schema.sh', { POSTGRES_SEEDS: 'postgres', DB_PORT: '5432', POSTGRES_USER: 'postgres', SQL_PASSWORD: 'pw' });
    expect(res.status).toBe(0);
    const common = '--plugin postgres12 --ep postgres -p 5432 -u postgres';
    expect(readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')).toEqual([
      `${common} --db temporal create`,
      `${common} --db temporal setup-schema -v 0.0`,
      `${common} --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned`,
      `${common} --db temporal_visibility create`,
      `${common} --db temporal_visibility setup-schema -v 0.0`,
      `${common} --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned`,
    ]);
  });

  it('schema.sh stops at the first failing step and refuses to run without the password', () => {
    stub('temporal-sql-tool', 'echo "$*" >> "$STATE/calls"; case "$*" in *setup-schema*) exit 1;; esac');
    expect(run('schema.sh', { POSTGRES_SEEDS: 'postgres', POSTGRES_USER: 'postgres', SQL_PASSWORD: 'pw' }).status).not.toBe(0);
    expect(readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')).toHaveLength(2);
    const res = run('schema.sh', { POSTGRES_SEEDS: 'postgres', POSTGRES_USER: 'postgres' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('SQL_PASSWORD');
  });

  /**
   * A fake `temporal` CLI keeping namespaces and search attributes in files. The cluster is
   * unhealthy for its first $UNHEALTHY calls; creating an existing search attribute fails like
   * newer servers do ("already exists"), or, with SILENT_SA_CREATE, succeeds without adding it.
   */
  const fakeTemporal = `
state="$STATE"
echo "$*" >> "$state/calls"
case "$1 $2 $3" in
  "operator cluster health")
    n=$(cat "$state/health" 2>/dev/null || echo 0); echo $((n + 1)) > "$state/health"
    [ "$n" -ge "\${UNHEALTHY:-0}" ] && echo SERVING && exit 0
    echo "connection refused" >&2; exit 1;;
  "operator namespace describe") [ -f "$state/ns" ] && exit 0; echo "Namespace not found" >&2; exit 1;;
  "operator namespace create") touch "$state/ns"; exit 0;;
  "operator search-attribute list")
    [ -f "$state/ns" ] || exit 1
    printf '  Name  Type\\n  WorkflowId  Keyword\\n'; cat "$state/sa" 2>/dev/null; exit 0;;
  "operator search-attribute create")
    name=$(echo "$*" | sed 's/.*--name \\([A-Za-z]*\\).*/\\1/')
    [ -n "$SILENT_SA_CREATE" ] && exit 0
    if grep -qw "$name" "$state/sa" 2>/dev/null; then echo "Search attribute $name already exists" >&2; exit 1; fi
    echo "  $name  Keyword" >> "$state/sa"; exit 0;;
esac
echo "unexpected: $*" >&2; exit 2`;
  const setupEnv = { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', SETUP_RETRY_SECONDS: '0', SETUP_ATTEMPTS: '5' };

  it('setup.sh waits for the cluster, creates the namespace and the workflow search attributes, and is idempotent', () => {
    stub('temporal', fakeTemporal);
    const first = run('setup.sh', { ...setupEnv, UNHEALTHY: '2' });
    expect(first.stderr).not.toContain('unexpected');
    expect(first.status).toBe(0);
    const registered = readFileSync(join(dir, 'sa'), 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(registered).toEqual(orderSearchAttributes.map((a) => [a.name, 'Keyword']));
    expect(orderSearchAttributes.map((a) => a.type)).toEqual(orderSearchAttributes.map(() => 'KEYWORD'));
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    expect(calls.match(/operator cluster health/g)).toHaveLength(3);
    expect(calls).toContain('operator namespace create --namespace default --retention 72h');

    // Second run (compose up again): everything exists, nothing is created, still success.
    writeFileSync(join(dir, 'calls'), '');
    const second = run('setup.sh', setupEnv);
    expect(second.status).toBe(0);
    expect(readFileSync(join(dir, 'calls'), 'utf8')).not.toMatch(/create/);
  });

  it('setup.sh tolerates "already exists" from a concurrent creation and fails when an attribute never appears', () => {
    // Another run registered OrderStatus between our list and our create.
    stub('temporal', fakeTemporal.replace('echo "$*" >> "$state/calls"', 'echo "$*" >> "$state/calls"; case "$*" in *"search-attribute create"*OrderStatus*) echo "  OrderStatus  Keyword" >> "$state/sa"; echo "already exists" >&2; exit 1;; esac'));
    expect(run('setup.sh', setupEnv).status).toBe(0);

    rmSync(join(dir, 'sa'), { force: true });
    stub('temporal', fakeTemporal);
    const res = run('setup.sh', { ...setupEnv, SILENT_SA_CREATE: '1' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('gave up on search attribute OrderStatus after 5 attempts');
  });

  it('setup.sh gives up when the cluster never becomes healthy', () => {
    stub('temporal', fakeTemporal);
    const res = run('setup.sh', { ...setupEnv, UNHEALTHY: '99' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('gave up on cluster health after 5 attempts');
  });

  it('both scripts are valid POSIX sh', () => {
    for (const script of ['schema.sh', 'setup.sh']) execFileSync('sh', ['-n', join(repo, 'deploy/temporal', script)]);
  });
});

describe('container health check (scripts/healthcheck.ts)', () => {
  it('picks the URL from HEALTHCHECK_URL, else the port of the PROCESS, else the first port variable set', () => {
    expect(healthcheckUrl({ HEALTHCHECK_URL: 'http://10.0.0.1:9/ready', PROCESS: 'api' })).toBe('http://10.0.0.1:9/ready');
    expect(healthcheckUrl({ PROCESS: 'api' })).toBe('http://127.0.0.1:3000/healthz');
    expect(healthcheckUrl({ PROCESS: 'inventory', INVENTORY_PORT: '4001', API_PORT: '5000' })).toBe('http://127.0.0.1:4001/healthz');
    expect(healthcheckUrl({ PROCESS: 'payment' })).toBe('http://127.0.0.1:3002/healthz');
    expect(healthcheckUrl({ PROCESS: 'relay' })).toBe('http://127.0.0.1:9464/healthz');
    expect(healthcheckUrl({ PROCESS: 'worker', METRICS_PORT: '9999' })).toBe('http://127.0.0.1:9999/healthz');
    expect(healthcheckUrl({ METRICS_PORT: '9465', API_PORT: '3000' })).toBe('http://127.0.0.1:9465/healthz');
    expect(healthcheckUrl({ PAYMENT_PORT: '3002' })).toBe('http://127.0.0.1:3002/healthz');
    expect(healthcheckUrl({})).toBe('http://127.0.0.1:3000/healthz');
    expect(() => healthcheckUrl({ PROCESS: 'nope' })).toThrow(/PROCESS=nope is not one of inventory, payment/);
  });

  describe('against a local server', () => {
    let server: Server;
    let port: number;
    let status = 200;
    let delayMs = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        setTimeout(() => res.writeHead(req.url === '/healthz' ? status : 404).end('{}'), delayMs);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const quiet = () => {
      const lines: string[] = [];
      return { lines, log: { log: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
    };

    it('exits 0 on 2xx and 1 on any other status, saying which', async () => {
      const out = quiet();
      status = 200;
      expect(await check({ PROCESS: 'relay', METRICS_PORT: String(port) }, out.log)).toBe(0);
      status = 503;
      expect(await check({ PROCESS: 'relay', METRICS_PORT: String(port) }, out.log)).toBe(1);
      expect(out.lines).toEqual([`healthcheck: http://127.0.0.1:${port}/healthz answered 200`, `healthcheck: http://127.0.0.1:${port}/healthz answered 503 Service Unavailable`]);
      status = 200;
    });

    it('exits 1 when nothing listens, when the answer is too slow, and on an unknown PROCESS', async () => {
      const out = quiet();
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      expect(await check({ API_PORT: String(closedPort) }, out.log)).toBe(1);
      expect(out.lines.at(-1)).toBe(`healthcheck: http://127.0.0.1:${closedPort}/healthz unreachable: ECONNREFUSED`);

      delayMs = 500;
      expect(await check({ HEALTHCHECK_URL: `http://127.0.0.1:${port}/healthz` }, out.log, 100)).toBe(1);
      expect(out.lines.at(-1)).toBe(`healthcheck: http://127.0.0.1:${port}/healthz unreachable: no answer within 100 ms`);
      delayMs = 0;

      expect(await check({ PROCESS: 'nope' }, out.log)).toBe(1);
    });
  });
});
