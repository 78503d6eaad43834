// Responses checked against docs/openapi.yaml: the document dereferenced by
// @apidevtools/swagger-parser (which also validates it), each response
// schema compiled with ajv (OpenAPI 3.0's `nullable` understood, formats by
// ajv-formats). check() fails on a status the operation does not document,
// a content type it does not list, a body or header its schema refuses.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
export const specPath = path.resolve(here, '../../../docs/openapi.yaml');

// Schema Object members of OpenAPI 3.0 that are annotations for JSON Schema.
const ANNOTATIONS = ['example', 'xml', 'externalDocs', 'discriminator'];
const EXCERPT = 300;

export class ApiSchema {
  static async load(file = specPath) {
    const api = await SwaggerParser.dereference(file);
    return new ApiSchema(api);
  }

  constructor(api) {
    this.api = api;
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    this.ajv.addVocabulary(ANNOTATIONS);
    addFormats(this.ajv);
    this.compiled = new Map();
    this.seen = new Set();  // "METHOD /path STATUS" exercised
  }

  validator(schema) {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(schema);
      this.compiled.set(schema, v);
    }
    return v;
  }

  // Every operation of the spec as "METHOD /path".
  operations() {
    const ops = [];
    for (const [p, item] of Object.entries(this.api.paths)) {
      for (const m of ['get', 'post', 'put', 'patch', 'delete']) if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
    }
    return ops;
  }

  // Checks `res` ({status, headers, body, json}) as the answer to METHOD on
  // the spec's path template `route`. Returns a list of problems ([] = fine).
  check(method, route, res) {
    const where = `${method} ${route} -> ${res.status}`;
    const item = this.api.paths[route];
    let op = item?.[method.toLowerCase()];
    // A wrong method's 405 is documented with the path's own operation.
    if (!op && item && res.status === 405) op = Object.values(item).find((o) => o?.responses?.['405']);
    if (!op) return [`${where}: no such operation in docs/openapi.yaml`];
    const doc = op.responses[String(res.status)] ?? op.responses[`${String(res.status)[0]}XX`] ??
                op.responses.default;
    if (!doc) {
      return [`${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')}); ` +
              `body: ${excerpt(res.body)}`];
    }
    this.seen.add(`${method} ${route} ${res.status}`);
    const problems = [];
    for (const [name, h] of Object.entries(doc.headers ?? {})) {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) problems.push(`${where}: header ${name} missing`);
        continue;
      }
      if (!h.schema) continue;
      // node gives a repeated header (Set-Cookie) as an array: each value is checked.
      for (const one of [].concat(value)) {
        const typed = ['integer', 'number'].includes(h.schema.type) && /^-?\d+(\.\d+)?$/.test(one) ? Number(one) : one;
        const v = this.validator(h.schema);
        if (!v(typed)) problems.push(`${where}: header ${name}: ${one}: ${this.ajv.errorsText(v.errors)}`);
      }
    }
    const content = doc.content ?? {};
    const types = Object.keys(content);
    if (types.length === 0) return problems;
    const type = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const media = content[type] ?? content[type.replace(/\/.*/, '/*')] ?? content['*/*'];
    if (!media) {
      problems.push(`${where}: Content-Type '${type}' not documented (documented: ${types.join(', ')})`);
      return problems;
    }
    if (!media.schema) return problems;
    let instance = res.body;
    if (type === 'application/json') {
      try {
        instance = JSON.parse(res.body);
      } catch (e) {
        problems.push(`${where}: body is not JSON (${e.message}): ${excerpt(res.body)}`);
        return problems;
      }
    }
    const v = this.validator(media.schema);
    if (!v(instance)) {
      for (const e of v.errors) {
        problems.push(`${where}: body${e.instancePath || ''} ${e.message}` +
                      (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '') +
                      ` (schema ${e.schemaPath}); value: ${excerpt(JSON.stringify(pick(instance, e.instancePath)))}`);
      }
    }
    return problems;
  }
}

function pick(doc, pointer) {
  if (!pointer) return doc;
  let cur = doc;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === undefined || cur === null) return cur;
    cur = cur[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

export function excerpt(text) {
  const s = String(text ?? '');
  return s.length > EXCERPT ? `${s.slice(0, EXCERPT)}… (${s.length} chars)` : s;
}
