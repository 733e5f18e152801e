/** removeBackground() against the real function (u2netp), started here; Pixian's route played by the function too. */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { backoffDelay, parseRetryAfter } from "../src/backoff.js";
import { type RetryEvent, RemoveBgError, removeBackground } from "../src/index.js";
import { freePort, photo, RunningFunction, tokenFile } from "./function.js";

const PHOTO = photo();
const TOKEN = "pixian-stand-in-secret";

function isPng(data: Uint8Array): boolean {
  return Buffer.from(data.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

async function rejection(promise: Promise<unknown>): Promise<RemoveBgError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RemoveBgError, `expected a RemoveBgError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

describe("against the running function", () => {
  let fn: RunningFunction;
  before(async () => {
    fn = await (await RunningFunction.start({ MAX_INFLIGHT: "1" })).waitReady();
  });
  after(async () => {
    await fn.stop();
  });

  test("a photo comes back cut out, with the options and the foreground box", async () => {
    const plain = await removeBackground(PHOTO, { url: fn.url, filename: "photo.jpg", contentType: "image/jpeg" });
    assert.equal(plain.source, "remove-bg");
    assert.equal(plain.attempts, 1);
    assert.equal(plain.contentType, "image/png");
    assert.ok(isPng(plain.data));
    assert.deepEqual([plain.width, plain.height], [512, 512]);
    assert.ok(plain.foreground && plain.foreground.width > 100);

    const cropped = await removeBackground(PHOTO, { url: fn.url + "/", output: { format: "webp", crop: true } });
    assert.equal(cropped.contentType, "image/webp");
    assert.equal(Buffer.from(cropped.data.subarray(8, 12)).toString("latin1"), "WEBP");
    assert.deepEqual([cropped.width, cropped.height], [plain.foreground?.width, plain.foreground?.height]);

    const mask = await removeBackground(PHOTO, { url: fn.url, output: { onlyMask: true, maxPixels: 10_000 } });
    assert.deepEqual([mask.width, mask.height], [100, 100]);
  });

  test("a client mistake is a typed error, tried once, whatever the retry settings", async () => {
    const retries: RetryEvent[] = [];
    const notImage = await rejection(
      removeBackground(new TextEncoder().encode("not a photo"), { url: fn.url, onRetry: (event) => retries.push(event) }),
    );
    assert.equal(notImage.status, 415);
    assert.equal(notImage.code, "unsupported_image");
    assert.equal(notImage.retryable, false);
    assert.equal(notImage.attempts, 1);
    assert.deepEqual(retries, []);

    const badOption = await rejection(removeBackground(PHOTO, { url: fn.url, output: { bgColor: "#12345" } }));
    assert.equal(badOption.status, 400);
    assert.equal(badOption.code, "invalid_option");
    assert.match(badOption.message, /bg_color/);
  });

  test("429s under load are retried after Retry-After, and every call succeeds", async () => {
    const big = photo(1600);
    const retries: RetryEvent[] = [];
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        removeBackground(big, { url: fn.url, maxAttempts: 30, deadlineMs: 90_000, onRetry: (event) => retries.push(event) }),
      ),
    );
    for (const result of results) {
      assert.ok(isPng(result.data));
      assert.deepEqual([result.width, result.height], [1600, 1600]);
    }
    const busy = retries.filter((event) => event.error.status === 429);
    assert.ok(busy.length >= 3, `expected 429s with one slot and four callers, saw ${busy.length}`);
    for (const event of busy) {
      assert.equal(event.error.code, "busy");
      assert.equal(event.error.retryAfterMs, 1000);
      assert.ok(event.delayMs >= 1000, `waited ${event.delayMs} ms, Retry-After said 1000`);
    }
    assert.ok(results.some((result) => result.attempts > 1));
  });

  test("without retries the 429 reaches the caller with its code", async () => {
    const big = photo(1600);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 3 }, () => removeBackground(big, { url: fn.url, maxAttempts: 1 })),
    );
    const refused = outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => outcome.reason);
    assert.ok(refused.length >= 1);
    for (const error of refused) {
      assert.ok(error instanceof RemoveBgError);
      assert.deepEqual([error.status, error.code, error.retryable, error.attempts], [429, "busy", true, 1]);
    }
  });
});

describe("two tiers: the quality tier (ISNet int8 with u2netp's core) at url, the fast tier (u2netp) at fastUrl", () => {
  let quality: RunningFunction;
  let fast: RunningFunction;
  before(async () => {
    const isnet = process.env.REMOVE_BG_ISNET;
    assert.ok(isnet, "make test-ts makes the ISNet int8 file and names it in REMOVE_BG_ISNET");
    quality = await RunningFunction.start({
      REMBG_MODEL: "isnet-general-use-int8", // production's record, the file standing in for its own
      REMBG_MODEL_PATH: isnet,
      REMBG_CORE_MODEL: "u2netp",
      MAX_INFLIGHT: "1",
    });
    fast = await RunningFunction.start({ MAX_INFLIGHT: "1" });
    await Promise.all([quality.waitReady(), fast.waitReady()]);
  });
  after(async () => {
    await Promise.all([quality.stop(), fast.stop()]);
  });

  test("the quality tier answers when it can", async () => {
    const result = await removeBackground(PHOTO, { url: quality.url, fastUrl: fast.url });
    assert.equal(result.source, "remove-bg");
    assert.equal(result.model, "isnet-general-use-int8+u2netp");
    assert.ok(isPng(result.data));
  });

  test("a quality tier that stays busy hands the photo to the fast tier, before any Pixian", async () => {
    const busy = fetch(quality.url + "/", { method: "POST", body: photo(2000) });
    while ((await fetch(quality.url + "/_/ready")).status !== 429) {
      await new Promise((done) => setTimeout(done, 20));
    }
    const retries: RetryEvent[] = [];
    const result = await removeBackground(PHOTO, {
      url: quality.url,
      fastUrl: fast.url,
      maxAttempts: 2,
      fallback: { url: "http://127.0.0.1:9/never", apiId: "worker", apiSecret: "unused" },
      onRetry: (event) => retries.push(event),
    });
    assert.equal((await busy).status, 200, "the request that kept the quality tier busy was served");
    assert.equal(result.source, "remove-bg-fast");
    assert.equal(result.model, "u2netp");
    assert.deepEqual([result.width, result.height], [512, 512]);
    assert.deepEqual(
      retries.map((event) => [event.source, event.error.code]),
      [["remove-bg", "busy"]],
      "one retry after the quality tier's Retry-After, then the fast tier at once",
    );
  });

  test("the caller's own mistake is not handed to another tier", async () => {
    const error = await rejection(
      removeBackground(new TextEncoder().encode("not a photo"), { url: quality.url, fastUrl: fast.url }),
    );
    assert.deepEqual([error.source, error.status, error.code, error.attempts], ["remove-bg", 415, "unsupported_image", 1]);
  });
});

describe("when the function is not there", () => {
  let standIn: RunningFunction;
  let stoppedUrl: string;
  before(async () => {
    standIn = await (await RunningFunction.start({ TOKEN_FILE: tokenFile(TOKEN) })).waitReady();
    stoppedUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  });
  after(async () => {
    await standIn.stop();
  });

  test("a cold start is waited out: connection refused, then 503 while loading, then the cut-out", async () => {
    const cold = await RunningFunction.start({ REMBG_MODEL: "u2net" });
    try {
      const retries: RetryEvent[] = [];
      const result = await removeBackground(PHOTO, {
        url: cold.url,
        maxAttempts: 60,
        baseDelayMs: 100,
        maxDelayMs: 400,
        onRetry: (event) => retries.push(event),
      });
      assert.ok(isPng(result.data));
      assert.ok(result.attempts > 1 && retries.length === result.attempts - 1);
      assert.ok(retries.every((event) => event.error.retryable));
      assert.ok(retries.every((event) => ["network_error", "unavailable"].includes(event.error.code)));
    } finally {
      await cold.stop();
    }
  });

  test("a function that stays down falls back to Pixian's route with the caller's credentials", async () => {
    const retries: RetryEvent[] = [];
    const result = await removeBackground(PHOTO, {
      url: stoppedUrl,
      deadlineMs: 3_000,
      baseDelayMs: 100,
      output: { format: "jpeg", bgColor: "#ffffff", crop: true },
      fallback: { url: standIn.url + "/api/v2/remove-background", apiId: "worker", apiSecret: TOKEN },
      onRetry: (event) => retries.push(event),
    });
    assert.equal(result.source, "pixian");
    assert.equal(result.contentType, "image/jpeg");
    assert.deepEqual([result.width, result.height], [result.foreground?.width, result.foreground?.height]);
    assert.ok(retries.length >= 1 && retries.every((event) => event.source === "remove-bg"));
    assert.ok(retries.every((event) => event.error.code === "network_error"));
  });

  test("both tiers down: the fast tier is tried, then Pixian", async () => {
    const retries: RetryEvent[] = [];
    const result = await removeBackground(PHOTO, {
      url: stoppedUrl,
      fastUrl: `http://127.0.0.1:${await freePort()}`,
      maxAttempts: 2,
      baseDelayMs: 50,
      fallback: { url: standIn.url + "/api/v2/remove-background", apiId: "worker", apiSecret: TOKEN },
      onRetry: (event) => retries.push(event),
    });
    assert.equal(result.source, "pixian");
    assert.deepEqual(
      retries.map((event) => event.source),
      ["remove-bg", "remove-bg-fast"],
    );
  });

  test("Pixian's own refusal is typed, from Pixian", async () => {
    const error = await rejection(
      removeBackground(PHOTO, {
        url: stoppedUrl,
        deadlineMs: 1_000,
        fallback: { url: standIn.url + "/api/v2/remove-background", apiId: "worker", apiSecret: "wrong" },
      }),
    );
    assert.deepEqual([error.source, error.status, error.retryable], ["pixian", 401, false]);
  });

  test("no fallback for what Pixian cannot make, and the deadline bounds the whole call", async () => {
    const deadlineMs = 2_000;
    const started = Date.now();
    const error = await rejection(
      removeBackground(PHOTO, {
        url: stoppedUrl,
        deadlineMs,
        output: { format: "webp" },
        fallback: { url: standIn.url + "/api/v2/remove-background", apiId: "worker", apiSecret: TOKEN },
      }),
    );
    const elapsed = Date.now() - started;
    assert.deepEqual([error.source, error.code, error.retryable], ["remove-bg", "network_error", true]);
    assert.ok(error.attempts > 1);
    assert.ok(elapsed < deadlineMs + 1_500, `took ${elapsed} ms for a ${deadlineMs} ms deadline`);
  });
});

describe("backoff", () => {
  test("exponential with full jitter, capped, and never under Retry-After", () => {
    const settings = { baseDelayMs: 500, maxDelayMs: 4_000 };
    assert.equal(backoffDelay(1, settings, undefined, () => 1), 500);
    assert.equal(backoffDelay(3, settings, undefined, () => 1), 2_000);
    assert.equal(backoffDelay(10, settings, undefined, () => 1), 4_000);
    assert.equal(backoffDelay(10, settings, undefined, () => 0), 0);
    assert.equal(backoffDelay(1, settings, 3_000, () => 0.5), 3_000);
  });

  test("Retry-After as seconds or as a date", () => {
    assert.equal(parseRetryAfter("1"), 1_000);
    assert.equal(parseRetryAfter("0.5"), 500);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
    const now = Date.parse("2026-11-29T12:00:00Z");
    assert.equal(parseRetryAfter("Sun, 29 Nov 2026 12:00:05 GMT", now), 5_000);
  });
});
