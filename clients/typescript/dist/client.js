/**
 * removeBackground(): the function first, with retries inside a deadline; then, if it stays unavailable, the
 * fast tier (a second deployment on a faster model) and Pixian, in that order (the design document's "rembg
 * first, Pixian as fallback").
 */
import { backoffDelay, parseRetryAfter, sleep } from "./backoff.js";
import { describeErrorBody, RemoveBgError } from "./errors.js";
import { OWN_ROUTE, ownForm, pixianCannot, pixianForm } from "./forms.js";
export const PIXIAN_URL = "https://api.pixian.ai/api/v2/remove-background";
const DEFAULTS = { deadlineMs: 120_000, maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 10_000, fallbackDeadlineMs: 60_000 };
export async function removeBackground(image, options) {
    const output = options.output ?? {};
    const filename = options.filename ?? "image";
    const contentType = options.contentType ?? "application/octet-stream";
    const deadline = Date.now() + (options.deadlineMs ?? DEFAULTS.deadlineMs);
    const tiers = [["remove-bg", options.url]];
    if (options.fastUrl !== undefined) {
        tiers.push(["remove-bg-fast", options.fastUrl]);
    }
    let unavailable;
    for (const [source, url] of tiers) {
        try {
            return await withRetries({
                source,
                url: url.replace(/\/+$/, "") + OWN_ROUTE,
                headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
                form: () => ownForm(image, output, filename, contentType),
                deadline,
                maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
            }, options);
        }
        catch (error) {
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
    return await withRetries({
        source: "pixian",
        url: fallback.url ?? PIXIAN_URL,
        headers: { Authorization: `Basic ${credentials}` },
        form: () => pixianForm(image, output, filename, contentType, fallback.test ?? false),
        deadline: Date.now() + (fallback.deadlineMs ?? DEFAULTS.fallbackDeadlineMs),
        maxAttempts: 3,
    }, options);
}
async function withRetries(target, options) {
    const deadline = target.deadline;
    const backoff = { baseDelayMs: options.baseDelayMs ?? DEFAULTS.baseDelayMs, maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs };
    for (let attempt = 1;; attempt++) {
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
async function attemptOnce(target, attempt, timeoutMs) {
    let response;
    try {
        response = await fetch(target.url, {
            method: "POST",
            body: target.form(),
            headers: target.headers,
            signal: AbortSignal.timeout(timeoutMs),
        });
    }
    catch (cause) {
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
            model: response.headers.get("X-Model") ?? undefined,
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
function headerNumber(response, name) {
    const value = response.headers.get(name);
    return value === null || value === "" || Number.isNaN(Number(value)) ? undefined : Number(value);
}
function foregroundOf(response) {
    const [top, left, width, height] = ["Top", "Left", "Width", "Height"].map((side) => headerNumber(response, `X-Foreground-${side}`));
    if (top === undefined || left === undefined || width === undefined || height === undefined) {
        return undefined;
    }
    return { top, left, width, height };
}
function describeCause(cause) {
    const inner = cause?.cause;
    return inner?.code ?? inner?.message ?? String(cause);
}
