/**
 * removeBackground(): the function first, with retries inside a deadline; then, if it stays unavailable, the
 * fast tier (a second deployment on a faster model) and Pixian, in that order (the design document's "rembg
 * first, Pixian as fallback").
 */

import type { components } from "./api.js";
import { backoffDelay, parseRetryAfter, sleep } from "./backoff.js";
import { describeErrorBody, RemoveBgError, type Source } from "./errors.js";
import { type ImageInput, type OutputOptions, OWN_ROUTE, ownForm, pixianCannot, pixianForm } from "./forms.js";

export const PIXIAN_URL = "https://api.pixian.ai/api/v2/remove-background";

/** The headers openapi.yaml gives a cut-out (its generated type without the catch-all index signature). */
type Documented<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type CutoutHeader = Documented<components["responses"]["Cutout"]["headers"]>;

export interface PixianFallback {
  /** Pixian's endpoint; a stand-in speaking its route may be given instead. */
  url?: string;
  apiId: string;
  apiSecret: string;
  /** Pixian's free, watermarked test mode. */
  test?: boolean;
  /** The fallback's own deadline, from when it starts (default 60 s). */
  deadlineMs?: number;
}

export interface RetryEvent {
  source: Source;
  /** The attempt that failed (1 is the first). */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  error: RemoveBgError;
}

export interface RemoveBackgroundOptions {
  /** The function's URL: `http://127.0.0.1:8080`, or `http://gateway:8080/function/remove-bg`. */
  url: string;
  /**
   * The fast tier's URL (`.../function/remove-bg-fast`): tried, with the same token and retries, when the function
   * at `url` stays busy or unavailable, before any Pixian fallback; within the same deadline.
   */
  fastUrl?: string;
  /** The function's token (TOKEN_FILE), sent as a Bearer token. */
  token?: string;
  output?: OutputOptions;
  /** The whole call, retries included (default 120 s, the worker's own timeout). */
  deadlineMs?: number;
  /** One attempt at most (default: what is left of the deadline). */
  attemptTimeoutMs?: number;
  /** Attempts at the function, the first included (default 6). */
  maxAttempts?: number;
  /** The first backoff's cap; each next one doubles it (default 500 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  fallback?: PixianFallback;
  onRetry?: (event: RetryEvent) => void;
  filename?: string;
  contentType?: string;
}

export interface ForegroundBox {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface Cutout {
  data: Uint8Array;
  contentType: string;
  width?: number;
  height?: number;
  /** Where the subject is, in the output's pixels (the function's X-Foreground-* headers). */
  foreground?: ForegroundBox;
  /** The model that made the mask (the function's X-Model header). */
  model?: string;
  attempts: number;
  source: Source;
}

interface Target {
  source: Source;
  url: string;
  headers: Record<string, string>;
  form: () => FormData;
  /** When the last attempt must have ended (Date.now() time). */
  deadline: number;
  maxAttempts: number;
}

const DEFAULTS = { deadlineMs: 120_000, maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 10_000, fallbackDeadlineMs: 60_000 };

export async function removeBackground(image: ImageInput, options: RemoveBackgroundOptions): Promise<Cutout> {
  const output = options.output ?? {};
  const filename = options.filename ?? "image";
  const contentType = options.contentType ?? "application/octet-stream";
  const deadline = Date.now() + (options.deadlineMs ?? DEFAULTS.deadlineMs);
  const tiers: [Source, string][] = [["remove-bg", options.url]];
  if (options.fastUrl !== undefined) {
    tiers.push(["remove-bg-fast", options.fastUrl]);
  }
  let unavailable: unknown;
  for (const [source, url] of tiers) {
    try {
      return await withRetries(
        {
          source,
          url: url.replace(/\/+$/, "") + OWN_ROUTE,
          headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
          form: () => ownForm(image, output, filename, contentType),
          deadline,
          maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
        },
        options,
      );
    } catch (error) {
      if (!(error instanceof RemoveBgError) || !error.retryable) {
        throw error; // the caller's own mistake: another tier would refuse it too
      }
      unavailable = error;
    }
  }
  const fallback = options.fallback;
  if (fallback === undefined || pixianCannot(output)) {
    throw unavailable;
  }
  const credentials = Buffer.from(`${fallback.apiId}:${fallback.apiSecret}`).toString("base64");
  return await withRetries(
    {
      source: "pixian",
      url: fallback.url ?? PIXIAN_URL,
      headers: { Authorization: `Basic ${credentials}` },
      form: () => pixianForm(image, output, filename, contentType, fallback.test ?? false),
      deadline: Date.now() + (fallback.deadlineMs ?? DEFAULTS.fallbackDeadlineMs),
      maxAttempts: 3,
    },
    options,
  );
}

async function withRetries(target: Target, options: RemoveBackgroundOptions): Promise<Cutout> {
  const deadline = target.deadline;
  const backoff = { baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs, maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs };
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    const timeout = Math.max(1, Math.min(options.attemptTimeoutMs ?? left, left));
    const outcome = await attemptOnce(target, attempt, timeout);
    if (!(outcome instanceof RemoveBgError)) {
      return outcome;
    }
    const delayMs = backoffDelay(attempt, backoff, outcome.retryAfterMs);
    if (!outcome.retryable || attempt >= target.maxAttempts || Date.now() + delayMs >= deadline) {
      throw outcome;
    }
    options.onRetry?.({ source: target.source, attempt, delayMs, error: outcome });
    await sleep(delayMs);
  }
}

async function attemptOnce(target: Target, attempt: number, timeoutMs: number): Promise<Cutout | RemoveBgError> {
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: "POST",
      body: target.form(),
      headers: target.headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
    const code = timedOut ? "timeout" : "network_error";
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : describeCause(cause);
    return new RemoveBgError(`${target.source}: ${reason}`, { code, attempts: attempt, source: target.source, cause });
  }
  const data = new Uint8Array(await response.arrayBuffer());
  if (response.ok) {
    return {
      data,
      contentType: response.headers.get("Content-Type") ?? "application/octet-stream",
      width: headerNumber(response, "X-Width"),
      height: headerNumber(response, "X-Height"),
      foreground: foregroundOf(response),
      model: response.headers.get("X-Model" satisfies CutoutHeader) ?? undefined,
      attempts: attempt,
      source: target.source,
    };
  }
  const { code, message } = describeErrorBody(response.status, new TextDecoder().decode(data));
  return new RemoveBgError(`${target.source}: ${response.status} ${code}: ${message}`, {
    code,
    status: response.status,
    retryAfterMs: parseRetryAfter(response.headers.get("Retry-After")),
    attempts: attempt,
    source: target.source,
  });
}

function headerNumber(response: Response, name: CutoutHeader): number | undefined {
  const value = response.headers.get(name);
  return value === null || value === "" || Number.isNaN(Number(value)) ? undefined : Number(value);
}

function foregroundOf(response: Response): ForegroundBox | undefined {
  const [top, left, width, height] = (["Top", "Left", "Width", "Height"] as const).map((side) =>
    headerNumber(response, `X-Foreground-${side}`),
  );
  if (top === undefined || left === undefined || width === undefined || height === undefined) {
    return undefined;
  }
  return { top, left, width, height };
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  return inner?.code ?? inner?.message ?? String(cause);
}
