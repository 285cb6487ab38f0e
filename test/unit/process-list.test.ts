import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compiledEntry, PROCESSES } from '../../common/processes';

/**
 * common/processes.ts is the one list of our processes: package.json's start scripts, the entry
 * files and `npm run dev` must agree with it. (docker-compose.yml is checked on its own.)
 */
const repo = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(repo, file), 'utf8');

/** Every `*.main.ts` below the folders that hold process entry points, as repo-relative paths. */
function entryFilesIn(folders: string[]): string[] {
  return folders.flatMap((folder) => readdirSync(join(repo, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.main.ts'))
    .map((file) => `${folder}/${file.split('\\').join('/')}`));
}

describe('the process list (common/processes.ts)', () => {
  it('names each process once', () => {
    const names = PROCESSES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has exactly one start:<name> script per process in package.json, running node <compiled entry>', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const startScripts = Object.fromEntries(Object.entries(scripts).filter(([name]) => name.startsWith('start:')));
    expect(startScripts).toEqual(Object.fromEntries(PROCESSES.map((p) => [`start:${p.name}`, `node ${compiledEntry(p)}`])));
  });

  it('points each process at an existing entry file named <something>.main.ts', () => {
    for (const p of PROCESSES) {
      expect(basename(p.entry)).toMatch(/^[a-z0-9-]+\.main\.ts$/);
      expect(existsSync(join(repo, p.entry))).toBe(true);
    }
  });

  it('lists every *.main.ts entry point of api/, workers/ and services/', () => {
    expect(entryFilesIn(['api', 'workers', 'services']).sort()).toEqual(PROCESSES.map((p) => p.entry).sort());
  });

  it('is what npm run dev starts: scripts/dev/system.ts iterates PROCESSES and names no entry file itself', () => {
    const dev = read('scripts/dev/system.ts');
    expect(dev).toMatch(/import \{[^}]*\bPROCESSES\b[^}]*\} from '\.\.\/\.\.\/common\/processes'/);
    expect(dev).toMatch(/\bof PROCESSES\b|\bPROCESSES\.(map|forEach)\(/);
    expect(dev).toMatch(/\.entry\b/);
    expect(dev).not.toMatch(/\.main(\.[jt]s)?\b/);
  });
});
