// Validates an OpenAPI 3.1 document, and optionally FHIR JSON files against its schemas:
//
//   node validate.mjs r4.json [example.json ...]
//
// 1. The document against the official OpenAPI 3.1 schema (@seriousme/openapi-schema-validator).
// 2. What that schema cannot see: every local `$ref` resolves, operation ids are unique, every
//    `{param}` of a path is declared by each of its operations.
// 3. `components.schemas` compile as JSON Schema 2020-12 with Ajv in strict mode (OpenAPI's
//    `discriminator` and `externalDocs` allowed), and each example file validates against the
//    `Resource` schema.
// Prints one line per problem and a last line `openapi: ok …`; exits 1 on any problem.

import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";

const [file, ...examples] = process.argv.slice(2);
if (!file) {
  console.error("usage: node validate.mjs <openapi.json> [fhir-resource.json ...]");
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, "utf8"));
const problems = [];

const validator = new Validator();
const result = await validator.validate(doc);
if (!result.valid) {
  problems.push(`not a valid OpenAPI document: ${JSON.stringify(result.errors, null, 1)}`);
} else if (validator.version !== "3.1") {
  problems.push(`OpenAPI version is ${validator.version}, expected 3.1`);
}

function pointer(root, ref) {
  let node = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

let refs = 0;
(function walk(node, at) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${at}/${i}`));
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        refs += 1;
        if (!value.startsWith("#/") || pointer(doc, value) === undefined) {
          problems.push(`${at}: unresolved $ref ${value}`);
        }
      } else {
        walk(value, `${at}/${key}`);
      }
    }
  }
})(doc, "#");

const ids = new Set();
let operations = 0;
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const [method, op] of Object.entries(item)) {
    operations += 1;
    if (ids.has(op.operationId)) problems.push(`${method} ${path}: duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
    const declared = (op.parameters ?? [])
      .map((p) => (p.$ref ? pointer(doc, p.$ref) : p))
      .filter((p) => p && p.in === "path")
      .map((p) => p.name);
    for (const name of templated) {
      if (!declared.includes(name)) problems.push(`${method} ${path}: path parameter {${name}} not declared`);
    }
    const seen = new Set();
    for (const p of (op.parameters ?? []).map((p) => (p.$ref ? pointer(doc, p.$ref) : p))) {
      if (!p) continue;
      const key = `${p.in}:${p.name}`;
      if (seen.has(key)) problems.push(`${method} ${path}: parameter ${key} listed twice`);
      seen.add(key);
    }
  }
}

// The component schemas as one JSON Schema 2020-12 document with `$defs`.
const schemas = doc.components?.schemas ?? {};
const defs = JSON.parse(
  JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
);
for (const schema of Object.values(defs)) {
  // Ajv checks `discriminator` mappings itself; they name OpenAPI locations.
  if (schema.discriminator) delete schema.discriminator.mapping;
}
const ajv = new Ajv2020({ strict: true, allErrors: false, discriminator: true });
ajv.addVocabulary(["externalDocs", "example"]);
// The format the OpenAPI dialect defines and the schemas use.
ajv.addFormat("int32", {
  type: "number",
  validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
});
let validate;
try {
  ajv.addSchema({ $id: "urn:fhir:r4", $defs: defs });
  validate = ajv.compile({ $ref: "urn:fhir:r4#/$defs/Resource" });
} catch (err) {
  problems.push(`component schemas do not compile as JSON Schema 2020-12: ${err.message}`);
}

let passed = 0;
for (const example of validate ? examples : []) {
  const resource = JSON.parse(readFileSync(example, "utf8"));
  if (validate(resource)) {
    passed += 1;
  } else {
    const errors = validate.errors
      .slice(0, 3)
      .map((e) => `${e.instancePath || "/"} ${e.message}`)
      .join("; ");
    problems.push(`${example}: ${errors}`);
  }
}

for (const problem of problems) console.log(problem);
if (problems.length > 0) {
  console.log(`openapi: ${problems.length} problems`);
  process.exit(1);
}
console.log(
  `openapi: ok: OpenAPI ${validator.version}, ${Object.keys(doc.paths).length} paths, ${operations} operations, ` +
    `${Object.keys(schemas).length} schemas, ${refs} $refs resolved, ${passed} examples valid`,
);
