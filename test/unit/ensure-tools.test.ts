import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools, parseExports } from '../../scripts/tools';

/**
 * tools/ensure-tools.sh fails loudly and caches nothing when a build fails or produces a tool
 * that does not run. No real builds: fake `go`, `mvn` and `java` first on PATH, an empty
 * temporary ORDERS_TOOLS_DIR.
 */

const repo = join(__dirname, '..', '..');
const script = join(repo, 'tools', 'ensure-tools.sh');
const versions = Object.fromEntries(
  readFileSync(join(repo, 'tools', 'versions.env'), 'utf8').split('\n')
    .map((line) => /^(\w+)=(\S+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

let work: string;
let fakeBin: string;
let toolsDir: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'ensure-tools-test-'));
  fakeBin = join(work, 'fake-bin');
  toolsDir = join(work, 'tools');
  mkdirSync(fakeBin);
  mkdirSync(toolsDir);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function writeScript(path: string, body: string): string {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A fake `go`: `go install` runs `install` (with $GOBIN set and the binary's name in $name). */
function fakeGo(install: string): void {
  writeScript(join(fakeBin, 'go'), `
echo "go $*" >> "${join(work, 'go-calls.log')}"
case "$1" in
  version) echo "go version go0.0-fake linux/amd64" ;;
  env) echo "https://proxy.invalid" ;;
  install)
    pkg="\${@: -1}"; pkg="\${pkg%@*}"; pkg="\${pkg%/v[0-9]*}"; name="\${pkg##*/}"
    mkdir -p "$GOBIN"
    ${install} ;;
esac`);
}

const goFails = 'echo "go: downloading github.com/example/dep v1.0.0" >&2; echo "go: $pkg: fake proxy failure: 403 Forbidden" >&2; exit 1';
const goBuildsBrokenBinary = `echo "$pkg" >&2
printf '#!/usr/bin/env bash\\necho "fake %s: cannot execute" >&2; exit 3\\n' "$name" > "$GOBIN/$name"; chmod +x "$GOBIN/$name"`;
const goBuildsWorkingBinary = `echo "$pkg" >&2
printf '#!/usr/bin/env bash\\necho "fake %s 9.9.9"\\n' "$name" > "$GOBIN/$name"; chmod +x "$GOBIN/$name"`;

/**
 * A PATH with every program of this one but those named (say `unzip`): symlinks in one directory,
 * the fake programs first.
 */
function pathWithout(...missing: string[]): string {
  const dir = join(work, `path-without-${missing.join('-')}`);
  mkdirSync(dir);
  for (const from of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (missing.some((m) => name === m || name.startsWith(`${m}.`)) || existsSync(join(dir, name))) continue;
      try {
        accessSync(join(from, name), constants.X_OK);
        symlinkSync(join(from, name), join(dir, name));
      } catch {
        // not a program
      }
    }
  }
  return `${fakeBin}:${dir}`;
}

/** A cached Zipkin server (wrapper and jar) as ensure-tools.sh leaves it, its jar's manifest naming `startClass`. */
function cachedZipkin(startClass: string): string {
  const dir = join(toolsDir, `zipkin-${versions.ZIPKIN_VERSION}`);
  mkdirSync(dir);
  const made = spawnSync('python3', ['-c', 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\\nStart-Class: " + sys.argv[2] + "\\n")', join(dir, 'zipkin-server.jar'), startClass], { encoding: 'utf8' });
  expect(made.status).toBe(0);
  return writeScript(join(dir, 'zipkin-server'), 'echo zipkin');
}

function run(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  for (const name of ['TEMPORAL_CLI_BIN', 'NATS_SERVER_BIN', 'TEMPORAL_TEST_SERVER_BIN', 'ZIPKIN_BIN', 'ORDERS_TOOLS_DIR']) delete base[name];
  const r = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...base, PATH: `${fakeBin}:${process.env.PATH}`, ORDERS_TOOLS_DIR: toolsDir, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Everything under the tools dir (relative paths); empty means nothing was cached or left behind. */
function cached(): string[] {
  return readdirSync(toolsDir, { recursive: true }).map(String).sort();
}

describe('tools/ensure-tools.sh', () => {
  it('fails loudly when go install fails, and caches nothing', () => {
    fakeGo(goFails);
    const r = run(['temporal', '--print-env']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[tools] ERROR: building Temporal CLI ${versions.TEMPORAL_CLI_VERSION} failed (go install exited with 1)`);
    expect(r.stderr).toContain(`go install -v github.com/temporalio/cli/cmd/temporal@${versions.TEMPORAL_CLI_VERSION}`);
    expect(r.stderr).toContain('fake proxy failure: 403 Forbidden'); // the go output's tail
    expect(r.stderr).toContain('go version go0.0-fake');
    expect(r.stderr).toMatch(/what to do: .*Go version.*GOPROXY.*set TEMPORAL_CLI_BIN to an existing temporal binary/);
    expect(cached()).toEqual([]);
  });

  it('stops at the first failing tool instead of carrying on', () => {
    fakeGo(goFails);
    const r = run(['nats', 'temporal', '--print-env']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`building nats-server ${versions.NATS_SERVER_VERSION} failed`);
    expect(r.stderr).not.toContain('Temporal CLI');
    expect(r.stdout).toBe('');
    expect(cached()).toEqual([]);
  });

  it('does not cache a binary that builds but does not run', () => {
    fakeGo(goBuildsBrokenBinary);
    const r = run(['nats', '--print-env']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[tools] ERROR: built nats-server ${versions.NATS_SERVER_VERSION}, but it does not run: \`nats-server --version\` exited with 3`);
    expect(r.stderr).toContain('fake nats-server: cannot execute');
    expect(r.stderr).toContain('set NATS_SERVER_BIN to an existing nats-server binary');
    expect(cached()).toEqual([]);
  });

  it('rebuilds a cached binary that no longer runs, and caches the checked rebuild', () => {
    const target = join(toolsDir, 'bin', `temporal-${versions.TEMPORAL_CLI_VERSION}`);
    mkdirSync(join(toolsDir, 'bin'));
    writeScript(target, 'exit 1');
    fakeGo(goBuildsWorkingBinary);
    const r = run(['temporal', '--print-env']);
    expect(r.stderr).toContain('does not run');
    expect(r.stderr).toContain('rebuilding it');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`export TEMPORAL_CLI_BIN='${target}'\n`);
    expect(spawnSync(target, ['--version'], { encoding: 'utf8' }).stdout).toContain('fake temporal 9.9.9');
    expect(cached()).toEqual(['bin', join('bin', `temporal-${versions.TEMPORAL_CLI_VERSION}`)]);

    // Cached and working now: no second build.
    rmSync(join(work, 'go-calls.log'));
    expect(run(['temporal', '--print-env']).stdout).toBe(`export TEMPORAL_CLI_BIN='${target}'\n`);
    expect(existsSync(join(work, 'go-calls.log'))).toBe(false);
  });

  it('fails loudly when the Maven fetch of the test server fails, and caches nothing', () => {
    writeScript(join(fakeBin, 'mvn'), 'echo "[ERROR] Failed to execute goal ... Could not transfer artifact io.temporal:temporal-test-server" ; exit 1');
    writeScript(join(fakeBin, 'java'), 'exit 0');
    const r = run(['test-server', '--print-env']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Could not transfer artifact'); // Maven's own output reaches stderr, not stdout
    expect(r.stderr).toContain(`[tools] ERROR: fetching the Temporal test server ${versions.TEMPORAL_TEST_SERVER_VERSION} with Maven failed (mvn exited with 1`);
    expect(r.stderr).toContain(`-Dtemporal.test.server.version=${versions.TEMPORAL_TEST_SERVER_VERSION}`);
    expect(r.stderr).toContain('set TEMPORAL_TEST_SERVER_BIN to an existing test server');
    expect(cached()).toEqual([]);
  });

  it('uses TEMPORAL_CLI_BIN when it points at a binary that runs, without building', () => {
    fakeGo(goFails);
    const temporal = writeScript(join(work, 'my-temporal'), 'echo "temporal version 9.9.9"');
    const r = run(['temporal', '--print-env'], { TEMPORAL_CLI_BIN: temporal });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`export TEMPORAL_CLI_BIN='${temporal}'\n`);
    expect(r.stderr).toContain(`using TEMPORAL_CLI_BIN=${temporal} (temporal version 9.9.9)`);
    expect(existsSync(join(work, 'go-calls.log'))).toBe(false);
    expect(cached()).toEqual([]);
  });

  it('refuses a TEMPORAL_CLI_BIN / NATS_SERVER_BIN that does not run', () => {
    const broken = writeScript(join(work, 'broken'), 'echo "segfault" >&2; exit 139');
    const r = run(['nats', '--print-env'], { NATS_SERVER_BIN: broken });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[tools] ERROR: NATS_SERVER_BIN='${broken}' does not run`);
    expect(r.stderr).toContain('segfault');
    const missing = run(['temporal', '--print-env'], { TEMPORAL_CLI_BIN: join(work, 'nope') });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('is not an executable file');
  });

  describe('Zipkin without unzip', () => {
    beforeEach(() => {
      writeScript(join(fakeBin, 'java'), 'exit 0');
      writeScript(join(fakeBin, 'mvn'), `echo "mvn $*" >> "${join(work, 'mvn-calls.log')}"; echo "[ERROR] offline"; exit 1`);
    });

    it('checks the cached jar with Python\'s zipfile instead, and uses it', () => {
      const wrapper = cachedZipkin('zipkin.server.ZipkinServer');
      const r = run(['zipkin', '--print-env'], { PATH: pathWithout('unzip') });
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toBe(`export ZIPKIN_BIN='${wrapper}'\n`);
      expect(existsSync(join(work, 'mvn-calls.log'))).toBe(false);
    });

    it('still refuses a cached jar that is not Zipkin\'s (fetches it again)', () => {
      cachedZipkin('org.example.Other');
      const r = run(['zipkin', '--print-env'], { PATH: pathWithout('unzip') });
      expect(r.stderr).toContain('is not a Zipkin server jar with its wrapper; fetching it again');
      expect(r.status).not.toBe(0);
      expect(existsSync(join(work, 'mvn-calls.log'))).toBe(true);
    });

    it('uses the cached jar unchecked, saying so, when neither unzip nor Python is there', () => {
      const wrapper = cachedZipkin('org.example.Other');
      const r = run(['zipkin', '--print-env'], { PATH: pathWithout('unzip', 'python3'), PYTHON: 'python3' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`export ZIPKIN_BIN='${wrapper}'\n`);
      expect(r.stderr).toContain('neither unzip nor python3 on PATH');
      expect(existsSync(join(work, 'mvn-calls.log'))).toBe(false);
    });
  });

  it('rejects unknown arguments', () => {
    const r = run(['temporal', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown argument '--bogus'");
  });
});

describe('ensureTools (scripts/tools.ts)', () => {
  const env = () => {
    const base = { ...process.env };
    for (const name of ['TEMPORAL_CLI_BIN', 'NATS_SERVER_BIN', 'TEMPORAL_TEST_SERVER_BIN']) delete base[name];
    return { ...base, PATH: `${fakeBin}:${process.env.PATH}`, ORDERS_TOOLS_DIR: toolsDir };
  };

  it('returns the paths the script prints', async () => {
    const temporal = writeScript(join(work, "it's temporal"), 'echo "temporal version 9.9.9"');
    const nats = writeScript(join(work, 'nats-server'), 'echo "nats-server: v9.9.9"');
    await expect(ensureTools(['temporal', 'nats', 'test-server'], {
      env: { ...env(), TEMPORAL_CLI_BIN: temporal, NATS_SERVER_BIN: nats, TEMPORAL_TEST_SERVER_BIN: 'download' }, quiet: true,
    })).resolves.toEqual({ TEMPORAL_CLI_BIN: temporal, NATS_SERVER_BIN: nats, TEMPORAL_TEST_SERVER_BIN: 'download' });
  });

  it('rejects with the reason when the script fails', async () => {
    fakeGo(goFails);
    await expect(ensureTools(['nats'], { env: env(), quiet: true }))
      .rejects.toThrow(/Could not get the local tools \(nats\): tools\/ensure-tools.sh exited with 1:[^]*ERROR: building nats-server/);
    expect(cached()).toEqual([]);
  });

  it('parses quoted export lines', () => {
    expect(parseExports("noise\nexport A='/x/y'\nexport B='it'\\''s'\n")).toEqual({ A: '/x/y', B: "it's" });
  });
});
