/**
 * removeBackground(): the function first, with retries inside a deadline; then, if it stays unavailable, the
 * fast tier (a second deployment on a faster model) and Pixian, in that order (the design document's "rembg
 * first, Pixian as fallback").
 */
import { RemoveBgError, type Source } from "./errors.js";
import { type ImageInput, type OutputOptions } from "./forms.js";
export declare const PIXIAN_URL = "https://api.pixian.ai/api/v2/remove-background";
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
export declare function removeBackground(image: ImageInput, options: RemoveBackgroundOptions): Promise<Cutout>;
