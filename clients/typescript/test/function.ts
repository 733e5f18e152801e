/** The real remove-bg function for the client's tests: the template's server with the real u2netp model. */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// build-test/test/function.js → the client's folder; the repository's root, unless make says where it is.
export const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ROOT = process.env.REMOVE_BG_ROOT ?? resolve(CLIENT, "../..");
const PYTHON = process.env.REMOVE_BG_PYTHON ?? join(ROOT, ".venv/bin/python");
const START_TIMEOUT_MS = 60_000;

export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export class RunningFunction {
  readonly url: string;
  readonly logPath: string;
  private readonly process: ChildProcess;

  private constructor(port: number, process: ChildProcess, logPath: string) {
    this.url = `http://127.0.0.1:${port}`;
    this.process = process;
    this.logPath = logPath;
  }

  /** Starts the server; it is listening (and loading its model) when this returns, ready after waitReady(). */
  static async start(env: Record<string, string> = {}): Promise<RunningFunction> {
    const port = await freePort();
    const folder = mkdtempSync(join(tmpdir(), "remove-bg-client-"));
    const logPath = join(folder, "server.log");
    const child = spawn(PYTHON, [join(ROOT, "template/python3-rembg/index.py")], {
      env: {
        ...process.env,
        PYTHONPATH: join(ROOT, "build/pythonpath"),
        U2NET_HOME: process.env.U2NET_HOME ?? join(ROOT, ".models"),
        NUMBA_DISABLE_JIT: "1",
        REMBG_MODEL: "u2netp",
        PORT: String(port),
        METRICS_PORT: String(await freePort()),
        LOG_FORMAT: "text",
        ...env,
      },
      stdio: ["ignore", openSync(logPath, "w"), openSync(logPath, "a")],
    });
    return new RunningFunction(port, child, logPath);
  }

  async waitReady(): Promise<this> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) {
        break;
      }
      try {
        if ((await fetch(`${this.url}/_/health`, { signal: AbortSignal.timeout(1000) })).status === 200) {
          return this;
        }
      } catch {
        // not listening yet
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`the function did not become ready:\n${this.log()}`);
  }

  log(): string {
    return readFileSync(this.logPath, "utf8");
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) {
      return;
    }
    const exited = new Promise((done) => this.process.once("exit", done));
    this.process.kill("SIGTERM");
    await exited;
  }
}

/** A token file for a function that needs one. */
export function tokenFile(token: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "remove-bg-token-")), "token");
  writeFileSync(path, token);
  return path;
}

/** A real photo (scikit-image's astronaut, 512×512) as JPEG, scaled to `side`. */
export function photo(side = 512): Uint8Array {
  const script = [
    "import io, sys",
    "from PIL import Image",
    "from skimage import data",
    "out = io.BytesIO()",
    `Image.fromarray(data.astronaut()).resize((${side}, ${side})).save(out, 'JPEG', quality=92)`,
    "sys.stdout.buffer.write(out.getvalue())",
  ].join("\n");
  return new Uint8Array(execFileSync(PYTHON, ["-c", script], { maxBuffer: 64 << 20 }));
}
