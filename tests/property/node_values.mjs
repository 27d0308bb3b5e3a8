// The node's rules for one value of an op's args, as the reference for prop_values.py: the functions below are
// copied from nosana-cli 1d3a04c (src/services/NodeManager/node/task/globalStore/interpolateOperation.ts and
// finalizeEnv.ts), so V8's own JSON.parse (any depth) decides. Reads [{how, text}, ...] as JSON on stdin and
// writes [{value} | {error}, ...] with `deepest`, the deepest value any JSON.parse made (iteratively measured),
// and `refused`, how many times JSON.parse threw (the text then stays text).
//   how: "item"  - an item of an args array (cmd): its tokens, each as the Compose file writes it;
//        "field" - a string field (an env value): the string the container gets;
//        "literal-item" / "literal-field" - the same, the text being a variable's value used as a whole literal.
import { readFileSync } from "node:fs";

let deepest = 0;
let refused = 0;
const depthOf = (value) => {
  let most = 0;
  const stack = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop();
    if (v && typeof v === "object") {
      most = Math.max(most, d + 1);
      for (const c of Object.values(v)) stack.push([c, d + 1]);
    }
  }
  return most;
};
const measuredParse = (s) => {
  let value;
  try {
    value = JSON.parse(s);
  } catch (e) {
    refused += 1;
    throw e;
  }
  deepest = Math.max(deepest, depthOf(value));
  return value;
};

// -- interpolateOperation.ts (JSON.parse measured) --
const isPlainObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);
const parseJsonIfLooksLike = (v) => {
  if (typeof v !== "string") return v;
  const s = v.trim();
  if (!s) return v;
  const first = s[0];
  if (first !== "[" && first !== "{") return v;
  try {
    return measuredParse(s);
  } catch {
    return v;
  }
};
const valueToArrayTokens = (value) => {
  const v = parseJsonIfLooksLike(value);
  if (Array.isArray(v)) {
    const out = [];
    for (const el of v) out.push(...valueToArrayTokens(el));
    return out;
  }
  if (isPlainObject(v)) return [v];
  if (v == null) return [];
  return [v];
};
const valueToSpaceString = (value) =>
  valueToArrayTokens(value)
    .map((x) => String(x))
    .join(" ");
// normalizeByOrigin for a field the job wrote as a string
const stringField = (value) => (Array.isArray(value) && value.length === 1 ? value[0] : valueToSpaceString(value));

// -- finalizeEnv.ts: toEnvString (also how the Compose file writes a cmd token that is not a string) --
const toEnvString = (v) => {
  if (v == null) return "";
  const t = typeof v;
  if (t === "string" || t === "number" || t === "boolean" || t === "bigint") return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

const one = ({ how, text }) => {
  deepest = 0;
  refused = 0;
  try {
    const literal = how.startsWith("literal-");
    const value = literal ? parseJsonIfLooksLike(text) : text; // resolveRawIfExact parses a whole literal's value
    const result = how.endsWith("item")
      ? valueToArrayTokens(value).map(toEnvString)
      : toEnvString(literal ? stringField(value) : valueToSpaceString(value));
    return { value: result, deepest, refused };
  } catch (e) {
    return { error: String(e), deepest, refused };
  }
};

process.stdout.write(JSON.stringify(JSON.parse(readFileSync(0, "utf8")).map(one)));
