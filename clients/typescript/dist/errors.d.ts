/** What went wrong, as the caller can act on it: the function's JSON error code, and whether to try again. */
/** Who answered: the function at `url`, the fast tier at `fastUrl`, or Pixian. */
export type Source = "remove-bg" | "remove-bg-fast" | "pixian";
/** Statuses that say "not now": the in-flight limit, a gateway without a replica, a cold start, a timeout. */
export declare const RETRYABLE_STATUSES: ReadonlySet<number>;
export interface RemoveBgErrorDetails {
    code: string;
    status?: number;
    retryAfterMs?: number;
    attempts: number;
    source: Source;
    cause?: unknown;
}
export declare class RemoveBgError extends Error {
    /** The JSON error's code (`corrupt_image`, `busy`…), or `network_error` / `timeout` when no answer came. */
    readonly code: string;
    /** The HTTP status; absent when no answer came. */
    readonly status?: number;
    /** What the server's Retry-After asked for, in milliseconds. */
    readonly retryAfterMs?: number;
    /** True when trying again later may succeed (429, 502, 503, 504, network errors, timeouts). */
    readonly retryable: boolean;
    /** Calls made to the service that failed last, this one included. */
    readonly attempts: number;
    readonly source: Source;
    constructor(message: string, details: RemoveBgErrorDetails);
}
/** The code and message of an error body in any of the shapes this client meets (ours, Pixian's, remove.bg's). */
export declare function describeErrorBody(status: number, text: string): {
    code: string;
    message: string;
};
