/** How long to wait before the next attempt: exponential with full jitter, never shorter than Retry-After. */
export interface BackoffSettings {
    baseDelayMs: number;
    maxDelayMs: number;
}
/** Full jitter (a random wait up to the exponential cap) keeps many workers from retrying in step. */
export declare function backoffDelay(attempt: number, settings: BackoffSettings, retryAfterMs?: number, random?: () => number): number;
/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export declare function parseRetryAfter(value: string | null, now?: number): number | undefined;
export declare function sleep(ms: number): Promise<void>;
