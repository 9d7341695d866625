import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { App } from '../../common/base-app';
import { projectRoot } from '../../common/paths';
import type { Stack } from './stack';

export const SERVICES = ['catalog', 'order', 'frontend'] as const;
export type Service = (typeof SERVICES)[number];

export interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; license?: { name: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

const ROOT = projectRoot(__dirname);

export async function readDocument(app: App): Promise<OpenApiDocument> {
  const res = await app.inject({ url: '/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}`);
  return res.json();
}

/** Every operation of a document as "METHOD /path" with its object. */
export function operationsOf(doc: OpenApiDocument): { name: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
}

/** Writes the three documents a stack serves into `dir` as catalog.json, order.json, frontend.json. */
export async function writeDocuments(stack: Stack, dir: string): Promise<Record<Service, string>> {
  const files = {} as Record<Service, string>;
  for (const service of SERVICES) {
    files[service] = join(dir, `${service}.json`);
    writeFileSync(files[service], JSON.stringify(await readDocument(stack[service]), null, 2));
  }
  return files;
}

export interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { source: { ref: string }; pointer: string }[];
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a package's command-line script (as its package.json "bin" names it) under this Node. */
export function packageCli(
  pkg: string,
  script: string,
  args: string[],
  { cwd = ROOT, env }: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const cli = join(dirname(require.resolve(`${pkg}/package.json`)), script);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs Redocly CLI (the devDependency) with the repository's redocly.yaml. Usage data stays off (REDOCLY_TELEMETRY,
 * besides `telemetry: off` in the config) and so does the update check, so it runs offline.
 */
export function redocly(args: string[]): CliResult {
  return packageCli('@redocly/cli', 'bin/cli.js', [...args, '--config', join(ROOT, 'redocly.yaml')], {
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
}

/** `redocly lint` over the given files; its JSON format prints one report per file, back to back (`}{`). */
export function lintDocuments(files: string[]): { status: number | null; problems: LintProblem[] } {
  const { status, stdout, stderr } = redocly(['lint', ...files, '--format=json']);
  const reports = stdout.split(/(?<=^\})(?=\{$)/m).filter((part) => part.trim() !== '');
  if (reports.length !== files.length) throw new Error(`redocly lint printed ${reports.length} reports:\n${stdout}\n${stderr}`);
  return { status, problems: reports.flatMap((report) => (JSON.parse(report) as { problems: LintProblem[] }).problems) };
}
