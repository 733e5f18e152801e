/**
 * The package as a worker installs it (issue 31): from its folder and from `npm pack`'s tarball, each into an empty
 * project whose own ESM script imports `@remove-bg/client` as the README shows and calls the real function, which
 * requires a token.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";

import { CLIENT, photo, ROOT, RunningFunction, tokenFile } from "./function.js";

const run = promisify(execFile);
const TOKEN = "install-test-token";

/** The worker's script: the README's call, with what came back (or the typed error) printed as JSON. */
const WORKER = `
import { readFileSync } from "node:fs";
import { removeBackground, RemoveBgError } from "@remove-bg/client";

try {
  const cutout = await removeBackground(readFileSync(process.env.PHOTO), {
    url: process.env.REMBG_URL,
    token: process.env.REMBG_TOKEN,
    output: { format: "webp", crop: true },
    deadlineMs: 30_000,
  });
  const { data, contentType, width, height, source } = cutout;
  const head = Buffer.from(data.subarray(0, 12)).toString("latin1");
  console.log(JSON.stringify({ contentType, width, height, source, head, bytes: data.length }));
} catch (error) {
  if (!(error instanceof RemoveBgError)) throw error;
  const { name, status, code, retryable, attempts } = error;
  console.log(JSON.stringify({ error: { name, status, code, retryable, attempts } }));
}
`;

/** The first TypeScript example after `marker` in a page of the docs. */
function example(page: string, marker: string): string {
  const text = readFileSync(join(ROOT, page), "utf8");
  const start = text.indexOf("```ts\n", text.indexOf(marker));
  assert.ok(text.includes(marker) && start >= 0, `no TypeScript example after ${marker} in ${page}`);
  return text.slice(start + 6, text.indexOf("```", start + 6));
}

/** What the docs' examples take as given. */
const GIVEN = ["imageBuffer: Uint8Array", "PIXIAN_API_ID: string", "PIXIAN_API_SECRET: string"]
  .map((given) => `declare const ${given};\n`)
  .join("");

/**
 * The environment without the npm_* variables `npm test` hands its scripts (a prefix and a globalconfig under the
 * client's folder among them): each project's npm runs as a worker's own would.
 */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const flags = ["--no-audit", "--no-fund", "--offline", "--loglevel=error"];
  return (await run("npm", [...args, ...flags], { cwd, env: npmEnv() })).stdout;
}

/** An empty ESM project with the package installed from `spec` (a folder or a tarball) and the worker's script. */
async function projectWith(spec: string): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), "remove-bg-worker-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "worker", private: true, type: "module" }));
  writeFileSync(join(project, "worker.mjs"), WORKER);
  await npm(project, ["install", spec]);
  assert.ok(existsSync(join(project, "node_modules/@remove-bg/client/package.json")));
  return project;
}

interface WorkerOutput {
  contentType?: string;
  width?: number;
  height?: number;
  source?: string;
  head?: string;
  bytes?: number;
  error?: { name: string; status: number; code: string; retryable: boolean; attempts: number };
}

describe("installed into an empty project", () => {
  let fn: RunningFunction;
  let packed: string;
  const picture = join(mkdtempSync(join(tmpdir(), "remove-bg-photo-")), "photo.jpg");

  before(async () => {
    writeFileSync(picture, photo());
    const started = RunningFunction.start({ TOKEN_FILE: tokenFile(TOKEN) });
    const folder = mkdtempSync(join(tmpdir(), "remove-bg-pack-"));
    const packing = await npm(CLIENT, ["pack", "--json", "--pack-destination", folder]);
    const [{ filename }] = JSON.parse(packing) as { filename: string }[];
    packed = join(folder, filename);
    fn = await (await started).waitReady();
  });
  after(async () => {
    await fn?.stop();
  });

  async function work(project: string, token: string | undefined): Promise<WorkerOutput> {
    // An undefined REMBG_TOKEN is left out of the child's environment, whatever this one holds.
    const env = { ...npmEnv(), PHOTO: picture, REMBG_URL: fn.url, REMBG_TOKEN: token };
    const { stdout } = await run(process.execPath, ["worker.mjs"], { cwd: project, env, timeout: 30_000 });
    return JSON.parse(stdout) as WorkerOutput;
  }

  async function holdsTheContract(project: string): Promise<void> {
    const cutout = await work(project, TOKEN);
    assert.equal(cutout.error, undefined, JSON.stringify(cutout.error));
    assert.equal(cutout.contentType, "image/webp");
    assert.equal(cutout.source, "remove-bg");
    const head = cutout.head ?? "";
    assert.equal(head.slice(0, 4), "RIFF");
    assert.equal(head.slice(8, 12), "WEBP");
    // RIFF's size field counts what follows its first 8 bytes: the whole file arrived.
    assert.equal(Buffer.from(head, "latin1").readUInt32LE(4) + 8, cutout.bytes);
    assert.ok((cutout.bytes ?? 0) > 5_000, `a cut-out of ${cutout.bytes} bytes`);
    // Cropped to the astronaut: within the 512×512 photo, not a sliver.
    assert.ok(cutout.width && cutout.width > 100 && cutout.width <= 512, `width ${cutout.width}`);
    assert.ok(cutout.height && cutout.height > 100 && cutout.height <= 512, `height ${cutout.height}`);

    const refused = await work(project, undefined);
    const unauthorized = { name: "RemoveBgError", status: 401, code: "unauthorized", retryable: false, attempts: 1 };
    assert.deepEqual(refused.error, unauthorized);
  }

  test("from its folder (`npm install <path to clients/typescript>`)", async () => {
    await holdsTheContract(await projectWith(CLIENT));
  });

  test("from `npm pack`'s tarball, which holds the build and nothing else", async () => {
    const listing = JSON.parse(await npm(CLIENT, ["pack", "--dry-run", "--json"])) as { files: { path: string }[] }[];
    const shipped = listing[0].files.map((file) => file.path);
    assert.ok(shipped.includes("dist/index.js") && shipped.includes("dist/index.d.ts"), shipped.join(", "));
    assert.deepEqual(
      shipped.filter((path) => !path.startsWith("dist/") && path !== "package.json"),
      [],
    );
    await holdsTheContract(await projectWith(packed));
  });

  test("the docs' examples compile against the installed package's types", async () => {
    const project = await projectWith(packed);
    const examples = {
      "readme.ts": example("README.md", "**The worker**"),
      "api.ts": example("docs/api.md", "### The TypeScript client"),
    };
    for (const [name, code] of Object.entries(examples)) {
      writeFileSync(join(project, name), code + GIVEN);
    }
    const compilerOptions = {
      module: "nodenext",
      target: "es2022",
      strict: true,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(CLIENT, "node_modules/@types")],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: Object.keys(examples) }));
    const tsc = join(CLIENT, "node_modules/typescript/bin/tsc");
    await run(process.execPath, [tsc, "-p", project]).catch((failure: { stdout?: string }) => {
      assert.fail(`the docs' examples do not compile:\n${failure.stdout}`);
    });
  });
});
