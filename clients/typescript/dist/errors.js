/** What went wrong, as the caller can act on it: the function's JSON error code, and whether to try again. */
/** Statuses that say "not now": the in-flight limit, a gateway without a replica, a cold start, a timeout. */
export const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
export class RemoveBgError extends Error {
    /** The JSON error's code (`corrupt_image`, `busy`…), or `network_error` / `timeout` when no answer came. */
    code;
    /** The HTTP status; absent when no answer came. */
    status;
    /** What the server's Retry-After asked for, in milliseconds. */
    retryAfterMs;
    /** True when trying again later may succeed (429, 502, 503, 504, network errors, timeouts). */
    retryable;
    /** Calls made to the service that failed last, this one included. */
    attempts;
    source;
    constructor(message, details) {
        super(message, { cause: details.cause });
        this.name = "RemoveBgError";
        this.code = details.code;
        this.status = details.status;
        this.retryAfterMs = details.retryAfterMs;
        this.attempts = details.attempts;
        this.source = details.source;
        this.retryable = details.status === undefined || RETRYABLE_STATUSES.has(details.status);
    }
}
/** The code and message of an error body in any of the shapes this client meets (ours, Pixian's, remove.bg's). */
export function describeErrorBody(status, text) {
    try {
        const body = JSON.parse(text);
        const error = body.error ?? {};
        const first = body.errors?.[0] ?? {};
        const code = typeof error.code === "string" ? error.code : typeof first.code === "string" ? first.code : undefined;
        const message = typeof error.message === "string" ? error.message : first.title;
        if (code !== undefined || typeof message === "string") {
            return { code: code ?? `http_${status}`, message: typeof message === "string" ? message : `HTTP ${status}` };
        }
    }
    catch {
        // not JSON: a proxy's page, for one
    }
    return { code: `http_${status}`, message: text.slice(0, 200) || `HTTP ${status}` };
}
