/**
 * The committed build is the build of the sources: dist/ is committed so that `npm install <folder>` works from a
 * fresh clone (npm links a folder and installs none of its devDependencies, so nothing can build it there), and this
 * test keeps it from drifting from src/ and openapi.yaml. `npm test` regenerates src/api.ts from openapi.yaml first.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { CLIENT } from "./function.js";

/** Every file under `folder`, by its path inside it. */
function files(folder: string): Map<string, Buffer> {
  const found = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  const paths = found.map((entry) => join(entry.parentPath, entry.name));
  return new Map(paths.map((path) => [path.slice(folder.length + 1), readFileSync(path)]));
}

test("dist/ is byte for byte what `npm run build` makes from src/ and openapi.yaml", () => {
  const fresh = mkdtempSync(join(tmpdir(), "remove-bg-dist-"));
  const tsc = join(CLIENT, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(CLIENT, "tsconfig.json"), "--outDir", fresh]);
  const committed = files(join(CLIENT, "dist"));
  const built = files(fresh);
  const hint = "dist/ is out of date: run `npm run build` in clients/typescript and commit dist/";
  assert.deepEqual([...committed.keys()].sort(), [...built.keys()].sort(), hint);
  const differing = [...built].filter(([name, data]) => !data.equals(committed.get(name) ?? Buffer.alloc(0)));
  assert.deepEqual(differing.map(([name]) => name), [], hint);
});
