// subset-spec.js IN OUT BYTES: writes the first paths of an OpenAPI JSON
// description, with only the components they reach, until OUT is about BYTES
// long. Used by `make bench-specs` to make a mid-size spec from GitHub's.
const fs = require("fs");
const [inFile, outFile, target] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(inFile, "utf8"));
const paths = Object.keys(spec.paths);

function subset(n) {
  const out = { ...spec, paths: {}, components: {} };
  const seen = new Set();
  const queue = [];
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "$ref" && typeof x === "string" && x.startsWith("#/components/") && !seen.has(x)) {
          seen.add(x);
          queue.push(x);
        } else walk(x);
      }
    }
  };
  for (const p of paths.slice(0, n)) out.paths[p] = spec.paths[p];
  walk(out.paths);
  walk(spec.security || []);
  delete out["x-webhooks"]; // its payload schemas are not paths: left out with them
  delete out.webhooks;
  for (const s of Object.keys((spec.components || {}).securitySchemes || {})) seen.add(`#/components/securitySchemes/${s}`), queue.push(`#/components/securitySchemes/${s}`);
  while (queue.length) {
    const [, , kind, name] = queue.shift().split("/");
    const v = spec.components[kind][name];
    out.components[kind] = out.components[kind] || {};
    out.components[kind][name] = v;
    walk(v);
  }
  return JSON.stringify(out);
}

let lo = 1, hi = paths.length, best = subset(1);
while (lo < hi) {
  const mid = Math.ceil((lo + hi) / 2);
  const s = subset(mid);
  if (s.length <= Number(target)) { best = s; lo = mid; } else hi = mid - 1;
}
fs.writeFileSync(outFile, best);
console.log(`${outFile}: ${lo} of ${paths.length} paths, ${best.length} bytes`);
