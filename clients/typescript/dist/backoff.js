/** How long to wait before the next attempt: exponential with full jitter, never shorter than Retry-After. */
/** Full jitter (a random wait up to the exponential cap) keeps many workers from retrying in step. */
export function backoffDelay(attempt, settings, retryAfterMs, random = Math.random) {
    const cap = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
    return Math.max(Math.round(random() * cap), retryAfterMs ?? 0);
}
/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
    if (value === null || value.trim() === "") {
        return undefined;
    }
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) {
        return Math.round(seconds * 1000);
    }
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
