import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { test } from 'node:test';

/**
 * The import rules of DESIGN.md: shells call the domain, never the other way
 * round, and inside the domain a module imports only those below it.
 */
const SRC = resolve(import.meta.dirname, '..', 'src');

/** Domain modules by level; a module may import its own level's utilities and anything lower. */
const DOMAIN_LEVEL: Record<string, number> = {
  crypto: 0,
  store: 0,
  providers: 1,
  audit: 1,
  // operators: people, roles, sessions, sign-in links and operator keys (issue 12).
  operators: 1,
  // events checks webhook URLs with the providers' URL rules.
  events: 2,
  connections: 3,
  oauth: 4,
  tokens: 5,
  agents: 6,
  broker: 7,
  // The MCP gateway calls upstream MCP servers with the token machinery and the broker's redaction.
  gateway: 8,
};
/** Top-level files anyone may use; they import nothing of ours but each other and config. */
const SHARED = new Set(['clock', 'errors', 'ids', 'duration', 'backoff', 'log', 'config', 'api', 'net']);
const SHELLS = new Set(['server', 'cli', 'mcp', 'ui', 'sdk']);

function moduleOf(file: string): string {
  const rel = relative(SRC, file);
  const first = rel.split('/')[0] as string;
  return first.replace(/\.ts$/, '');
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)[^'";]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1] as string);
  const dynamic = [...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1] as string);
  return [...specs, ...dynamic].map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  if (SHARED.has(from)) return SHARED.has(to);
  if (from === 'sdk') return to === 'api';
  if (SHELLS.has(from)) return true;
  if (from === 'latchkey') return !SHELLS.has(to);
  if (to === 'latchkey' || SHELLS.has(to)) return false;
  if (SHARED.has(to)) return from !== 'crypto' && from !== 'store' ? true : to === 'clock' || to === 'errors';
  const a = DOMAIN_LEVEL[from];
  const b = DOMAIN_LEVEL[to];
  if (a === undefined || b === undefined) return false;
  return b < a;
}

test('modules import only what DESIGN.md allows', () => {
  const violations: string[] = [];
  for (const file of walk(SRC)) {
    const from = moduleOf(file);
    for (const target of importsOf(file)) {
      if (!target.startsWith(SRC)) continue;
      const to = moduleOf(target);
      if (!allowed(from, to)) violations.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${from} → ${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the cli reaches the server only through serve', () => {
  const offenders = walk(join(SRC, 'cli'))
    .filter((f) => !f.endsWith('serve.ts'))
    .filter((f) => importsOf(f).some((t) => moduleOf(t) === 'server' || moduleOf(t) === 'latchkey'));
  assert.deepEqual(offenders.map((f) => relative(SRC, f)), []);
});

test('the console (a browser app) imports only itself and the SDK, and the SDK nothing of Node', () => {
  const consoleDir = resolve(import.meta.dirname, '..', 'console', 'src');
  const tsx = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? tsx(path) : /\.tsx?$/.test(path) ? [path] : [];
    });
  const offenders: string[] = [];
  for (const file of tsx(consoleDir)) {
    for (const target of importsOf(file)) {
      const ok = target.startsWith(consoleDir) || target.startsWith(join(SRC, 'sdk')) || target.endsWith('.css');
      if (!ok) offenders.push(`${relative(consoleDir, file)} imports ${target}`);
    }
  }
  // What the SDK pulls in is bundled for the browser: no node: modules, in it or in the api files it reaches.
  const sdkFiles = walk(join(SRC, 'sdk'));
  const reached = new Set(sdkFiles);
  for (const file of sdkFiles) for (const target of importsOf(file)) if (target.startsWith(SRC)) reached.add(target);
  for (const file of reached) {
    if (/from\s+['"]node:/.test(readFileSync(file, 'utf8'))) offenders.push(`${relative(SRC, file)} imports a node: module`);
  }
  assert.deepEqual(offenders, []);
});
