export { removeBackground, PIXIAN_URL } from "./client.js";
export { RemoveBgError, RETRYABLE_STATUSES } from "./errors.js";
