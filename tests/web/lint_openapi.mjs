// Lints docs/openapi.yaml with two independent tools and fails on any
// problem either reports: Redocly CLI (`redocly lint`, recommended rules,
// warnings count as failures) and @apidevtools/swagger-parser (validates the
// document against the OpenAPI 3.0 schema and resolves every $ref).
//   node tests/web/lint_openapi.mjs [path/to/openapi.yaml]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = path.resolve(process.argv[2] ?? path.join(here, '../../docs/openapi.yaml'));
let failed = false;

// Redocly: no telemetry, no update check (only loopback and the registries
// are reachable here; neither is needed).
const redocly = spawnSync(
  process.execPath,
  [path.join(here, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', spec,
   '--config', path.join(here, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000'],
  { encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
           NO_UPDATE_NOTIFIER: '1' } });
let report;
try {
  report = JSON.parse(redocly.stdout);
} catch {
  console.error(`redocly lint gave no JSON report (exit ${redocly.status}):\n${redocly.stdout}\n${redocly.stderr}`);
  process.exit(1);
}
const problems = report.problems ?? [];
for (const p of problems) {
  const where = (p.location ?? []).map((l) => l.pointer).join(', ');
  console.error(`redocly ${p.severity} [${p.ruleId}] ${where}: ${p.message}`);
}
if (problems.length > 0 || redocly.status !== 0) {
  console.error(`redocly lint: ${problems.length} problem(s), exit ${redocly.status}`);
  failed = true;
} else {
  console.log(`redocly lint (@redocly/cli ${report.version ?? ''}): no problems`);
}

try {
  const api = await SwaggerParser.validate(spec);
  console.log(`swagger-parser: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`);
} catch (e) {
  console.error(`swagger-parser: ${e.message}`);
  failed = true;
}
process.exit(failed ? 1 : 0);
