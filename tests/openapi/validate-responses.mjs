// Validates recorded HTTP answers against an OpenAPI 3.1 description.
//
//   node validate-responses.mjs OPENAPI.yaml EXCHANGES.ndjson [--all-operations]
//
// Each line of EXCHANGES is one answer the server gave, and the request's body:
//   {"method":"GET","path":"/v1/jobs/x?limit=1","request_body":"",
//    "status":200,"content_type":"application/json","body":"{...}"}
// An answer passes when the document has its operation (method and path
// template), a response for its status (exact code, then the NXX range, then
// `default`, as OpenAPI matches them), its media type, and a schema its body
// satisfies. An empty body passes only where the response has no content.
// A request the server accepted (2XX) must match the operation's documented
// request body too: the server taking what the document calls invalid is a
// mismatch as well.
// With --all-operations, every operation of the document must have been
// exercised at least once. Exit 0: all passed; 1: a mismatch (each one is
// printed); 2: bad usage or input.
//
// Strictness: object schemas that list `properties` and say nothing about
// other properties are validated as closed (`unevaluatedProperties: false`),
// because otherwise any field the server adds without documenting it would
// pass, and the description would drift from the server unnoticed.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];
const DEFS_ID = 'openapi-components.json';

function usage(message) {
  console.error(`${message}\nusage: node validate-responses.mjs OPENAPI.yaml EXCHANGES.ndjson [--all-operations]`);
  process.exit(2);
}

// OpenAPI's local refs point into the document; Ajv sees the component
// schemas as $defs of one schema, so '#/components/schemas/X' becomes
// 'openapi-components.json#/$defs/X'. Objects are closed on the way (above).
function prepare(node) {
  if (Array.isArray(node)) return node.map(prepare);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      out.$ref = `${DEFS_ID}#/$defs/${value.slice('#/components/schemas/'.length)}`;
    } else if (key === 'properties' || key === '$defs' || key === 'patternProperties') {
      // Keys here are property or definition names, not keywords.
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, prepare(v)]));
    } else {
      out[key] = prepare(value);
    }
  }
  if (out.properties && !('additionalProperties' in out) && !('unevaluatedProperties' in out)) {
    out.unevaluatedProperties = false;
  }
  return out;
}

function makeAjv(doc) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  // OpenAPI's own schema keywords: annotations for documentation only.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addSchema({ $id: DEFS_ID, $defs: prepare(doc.components?.schemas ?? {}) });
  return ajv;
}

// Path templates as matchers. Literal segments win over parameters (OpenAPI:
// "/v1/jobs/mine" before "/v1/jobs/{id}"), so templates are tried with the
// fewest parameters first.
function pathMatchers(doc) {
  const matchers = Object.keys(doc.paths ?? {}).map((template) => {
    const segments = template.split('/');
    const params = segments.filter((s) => /^\{.+\}$/.test(s)).length;
    const regex = new RegExp(
      '^' + segments.map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/') + '$');
    return { template, params, regex };
  });
  return matchers.sort((a, b) => a.params - b.params);
}

function formatErrors(errors) {
  return errors
    .map((e) => `      ${e.instancePath || '(body)'} ${e.message}` +
                (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''))
    .join('\n');
}

function responseFor(operation, status) {
  const responses = operation.responses ?? {};
  const range = `${String(status)[0]}XX`;
  if (responses[String(status)]) return { key: String(status), response: responses[String(status)] };
  if (responses[range]) return { key: range, response: responses[range] };
  if (responses.default) return { key: 'default', response: responses.default };
  return null;
}

function resolveResponse(doc, response) {
  let r = response;
  for (let depth = 0; r && r.$ref && depth < 10; ++depth) {
    const name = r.$ref.replace('#/components/responses/', '');
    r = doc.components?.responses?.[name];
  }
  return r;
}

function main() {
  const args = process.argv.slice(2);
  const allOperations = args.includes('--all-operations');
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length !== 2) usage('expected two files');
  const doc = YAML.parse(readFileSync(files[0], 'utf8'));
  const lines = readFileSync(files[1], 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) usage(`${files[1]} holds no exchanges`);

  const ajv = makeAjv(doc);
  const matchers = pathMatchers(doc);
  const validators = new Map();  // compiled once per (operation, response, media type)
  const exercised = new Set();
  const failures = [];

  // Returns why an accepted request does not match the documented request
  // body, or null.
  const checkAcceptedRequest = (operation, ex, operationKey) => {
    if (ex.status < 200 || ex.status > 299 || !operation.requestBody) return null;
    const requestBody = operation.requestBody;
    const text = ex.request_body ?? '';
    if (text === '') {
      return requestBody.required ? 'accepted a request without its required body' : null;
    }
    const schema = requestBody.content?.['application/json']?.schema;
    if (!schema) return null;
    let instance;
    try {
      instance = JSON.parse(text);
    } catch (e) {
      return `accepted a request body that is not JSON: ${e.message}`;
    }
    const key = `${operationKey} request`;
    if (!validators.has(key)) validators.set(key, ajv.compile(prepare(schema)));
    const validate = validators.get(key);
    if (validate(instance)) return null;
    return `accepted a request body the description refuses:\n${formatErrors(validate.errors)}` +
           `\n    request: ${text.slice(0, 600)}`;
  };

  lines.forEach((line, index) => {
    let ex;
    try {
      ex = JSON.parse(line);
    } catch (e) {
      usage(`line ${index + 1} of ${files[1]} is not JSON: ${e.message}`);
    }
    const method = String(ex.method).toLowerCase();
    const path = String(ex.path).split('?')[0];
    const label = `${ex.method} ${ex.path} -> ${ex.status}`;
    const fail = (why) => failures.push(`${label}: ${why}\n    body: ${String(ex.body).slice(0, 600)}`);

    const match = matchers.find((m) => m.regex.test(path) && doc.paths[m.template][method]);
    if (!match) return fail('no such operation in the description');
    exercised.add(`${method.toUpperCase()} ${match.template}`);
    const operation = doc.paths[match.template][method];
    const found = responseFor(operation, ex.status);
    if (!found) return fail(`status ${ex.status} is not among the documented responses (${Object.keys(operation.responses ?? {}).join(', ')})`);
    const response = resolveResponse(doc, found.response);
    if (!response) return fail(`response ${found.key} has a dangling $ref`);

    const requestProblem = checkAcceptedRequest(operation, ex, `${method} ${match.template}`);
    if (requestProblem) fail(requestProblem);

    const body = ex.body ?? '';
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) {
      if (body !== '') fail(`response ${found.key} documents no body, but one was sent`);
      return;
    }
    const mediaType = String(ex.content_type ?? '').split(';')[0].trim().toLowerCase();
    const media = content[mediaType];
    if (!media) return fail(`content type "${ex.content_type}" is not documented for ${found.key} (${Object.keys(content).join(', ')})`);
    if (!media.schema) return;
    let instance = body;
    if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
      try {
        instance = JSON.parse(body);
      } catch (e) {
        return fail(`body is not JSON: ${e.message}`);
      }
    }
    const key = `${method} ${match.template} ${found.key} ${mediaType}`;
    if (!validators.has(key)) validators.set(key, ajv.compile(prepare(media.schema)));
    const validate = validators.get(key);
    if (!validate(instance)) {
      fail(`body does not match response ${found.key}:\n${formatErrors(validate.errors)}`);
    }
  });

  const documented = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) if (item[m]) documented.push(`${m.toUpperCase()} ${template}`);
  }
  const missed = documented.filter((op) => !exercised.has(op));
  if (allOperations && missed.length) failures.push(`operations never exercised: ${missed.join(', ')}`);

  for (const f of failures) console.log(`MISMATCH ${f}`);
  console.log(`${lines.length} answers checked against ${documented.length} operations; ` +
              `${exercised.size} operations exercised; ${failures.length} mismatches`);
  process.exit(failures.length ? 1 : 0);
}

main();
