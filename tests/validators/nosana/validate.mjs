// Batch front-end for Nosana's own job-definition validator (@nosana/types, pinned in
// package.json). Reads ONE JSON array of job definitions on stdin and writes ONE JSON
// array on stdout, same length and order:
//   [{"success": true|false, "errors": [{"path": "$input.ops[0].args.image", "expected": "string"}, ...]}, ...]
// `errors` is [] when success is true. One node process handles the whole batch.
// If the validator itself throws (it does on some inputs, e.g. `expose: [null]`), the job
// counts as rejected: {"success": false, "errors": [{"path": "$input", "expected":
// "exception: TypeError: ..."}], "exception": "TypeError: ..."}.
// Exit codes: 0 = ran (whatever the verdicts), 2 = bad input (not JSON / not an array).
// Note: JSON has no NaN/Infinity; Python's json.dumps emits them and JSON.parse rejects
// them, so callers must not send non-finite floats (use allow_nan=False).
// With --sdk, the validator of @nosana/sdk (the package the node and `nosana job post` validate with).
import { validateJobDefinition as validateTypes } from "@nosana/types";

const sdk = process.argv.includes("--sdk");
const validateJobDefinition = sdk ? (await import("@nosana/sdk")).validateJobDefinition : validateTypes;

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

let jobs;
try {
  jobs = JSON.parse(text);
} catch (e) {
  process.stderr.write(`validate.mjs: stdin is not valid JSON: ${e.message}\n`);
  process.exit(2);
}
if (!Array.isArray(jobs)) {
  process.stderr.write("validate.mjs: stdin must be a JSON array of job definitions\n");
  process.exit(2);
}

const out = jobs.map((job) => {
  let r;
  try {
    r = validateJobDefinition(job);
  } catch (e) {
    const msg = `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`;
    return { success: false, errors: [{ path: "$input", expected: `exception: ${msg}` }], exception: msg };
  }
  return {
    success: r.success === true,
    errors: r.success ? [] : (r.errors ?? []).map((e) => ({ path: e.path, expected: e.expected })),
  };
});
process.stdout.write(JSON.stringify(out) + "\n");
