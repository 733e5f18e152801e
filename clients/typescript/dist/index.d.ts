export { removeBackground, PIXIAN_URL } from "./client.js";
export type { Cutout, ForegroundBox, PixianFallback, RemoveBackgroundOptions, RetryEvent } from "./client.js";
export { RemoveBgError, RETRYABLE_STATUSES } from "./errors.js";
export type { Source } from "./errors.js";
export type { ImageInput, OutputOptions } from "./forms.js";
export type { components, paths } from "./api.js";
