// Drives the try-it page in headless Chromium, as a person would: pick a photo, wait for the cut-out,
// then change options. Prints what the page showed as JSON; saves a screenshot.
// Usage: node tryit.mjs <server url> <photo path> <screenshot path> [gateway prefix] [token] [late token]
// A late token is typed into the Token box after the first answer, an error: the page sends the photo again.
// With a prefix (/function/remove-bg), the page is loaded under it and the browser maps every request
// under it to the server's root, as OpenFaaS' gateway does: the page must use relative URLs only.
import { chromium } from "playwright-core";

const [server, photo, screenshot, prefix = "", token = "", lateToken = ""] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const outside = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== server) {
      outside.push(url.href); // no CDN, no outside asset: anything else is a failure
      return route.abort();
    }
    if (prefix && url.pathname.startsWith(prefix)) {
      url.pathname = url.pathname.slice(prefix.length) || "/";
      return route.continue({ url: url.href });
    }
    return prefix ? route.fulfill({ status: 404, body: "not under the gateway prefix" }) : route.continue();
  });
  await page.goto(`${server}${prefix}/`);
  const seen = async () => {
    await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 90000 });
    return await page.evaluate(async () => {
      const after = document.getElementById("after");
      const canvas = document.createElement("canvas");
      canvas.width = after.naturalWidth;
      canvas.height = after.naturalHeight;
      const context = canvas.getContext("2d");
      let data = [];
      if (canvas.width > 0) {  // nothing is shown after an error
        context.drawImage(after, 0, 0);
        data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      }
      let transparent = 0;
      let opaque = 0;
      for (let index = 3; index < data.length; index += 4) {
        if (data[index] === 0) transparent++;
        if (data[index] >= 250) opaque++; // the model's foreground is mostly 254 or 255
      }
      const link = document.getElementById("download");
      return {
        state: document.body.dataset.state,
        status: document.getElementById("status").textContent,
        width: after.naturalWidth,
        height: after.naturalHeight,
        transparent,
        opaque,
        beforeShown: document.getElementById("before").naturalWidth > 0,
        download: link.hidden ? null : { href: link.href.slice(0, 5), name: link.download },
      };
    });
  };
  if (token) await page.fill("input[name=token]", token);
  await page.setInputFiles("#file", photo);
  const first = await seen();
  await page.screenshot({ path: screenshot, fullPage: true });
  if (first.state !== "done" && lateToken) {
    await page.fill("input[name=token]", lateToken);
    await page.locator("input[name=token]").blur(); // a text box's change event: on losing the focus
    await page.waitForFunction(() => document.body.dataset.state !== "error", null, { timeout: 10000 });
    console.log(JSON.stringify({ first, second: await seen(), outside }));
    process.exit(0);
  }
  if (first.state !== "done") {
    console.log(JSON.stringify({ first, second: null, outside }));
    process.exit(0);
  }
  await page.evaluate(() => { document.body.dataset.state = "idle"; });
  await page.selectOption("select[name=format]", "webp");
  await page.check("input[name=crop]");
  const second = await seen();
  console.log(JSON.stringify({ first, second, outside }));
} finally {
  await browser.close();
}
