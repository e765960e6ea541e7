// The dashboard in a real headless Chromium (Debian's package), driven through the DevTools
// protocol by puppeteer-core: `metricore serve --demo` serves it, the page connects to
// /live, frames arrive at the rate it asked for (counted in the page), the charts fill
// with the demo's traffic, a screenshot is saved, and stopping the server shows the stream
// as lost.
//
// Environment: METRICORE_BIN (default ../../target/debug/metricore), CHROMIUM (default
// /usr/bin/chromium), ARTIFACTS (default ../../target/artifacts) for the screenshot.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.METRICORE_BIN || resolve(here, "../../target/debug/metricore");
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = process.env.ARTIFACTS || resolve(here, "../../target/artifacts");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `metricore serve` and resolves with the process and the base URL it prints. */
function startServer(args) {
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolveStart, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`metricore printed no address: ${seen}`)), 10000);
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/dashboard on (https?:\/\/[^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, base: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`metricore exited with ${code}: ${seen}`)));
  });
}

test("the dashboard streams, plots, and shows a lost stream", { timeout: 90000 }, async () => {
  const { child, base } = await startServer(["--demo", "--duration", "60", "--sample-interval", "0.5"]);
  const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1100 });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${base}/?fps=20`, { waitUntil: "load" });
    await page.waitForFunction(() => window.metricoreDashboard && window.metricoreDashboard.frames > 0, { timeout: 10000 });
    const read = () =>
      page.evaluate(() => {
        const v = window.metricoreDashboard;
        const nonNull = (xs) => xs.filter((x) => x !== null && x !== undefined);
        return {
          frames: v.frames,
          connected: v.connected,
          status: document.getElementById("status").className,
          requestRates: nonNull(v.data.requests[1]),
          p99: nonNull(v.data.latency[3]),
          rss: nonNull(v.data.process[2]),
          heatCount: v.heat.columns.reduce((a, c) => a + c.reduce((x, y) => x + y, 0), 0),
          topRows: document.querySelectorAll("#top tbody tr").length,
        };
      });

    // Frames at the asked rate, counted by the page over 3 s.
    await sleep(500);
    const before = await read();
    await sleep(3000);
    const after = await read();
    const frames = after.frames - before.frames;
    assert.ok(frames >= 50 && frames <= 64, `${frames} frames in 3 s at 20 fps`);
    assert.equal(after.connected, true);
    assert.equal(after.status, "live");

    // The charts fill with the demo's traffic, and keep changing.
    assert.ok(after.requestRates.length > before.requestRates.length, "request points were added");
    assert.ok(after.requestRates.some((r) => r > 10), `request rates ${after.requestRates.slice(-5)}`);
    assert.ok(after.p99.length > 0 && after.p99.every((ms) => ms > 0), "latency p99 plotted");
    assert.ok(after.rss.length > 0 && after.rss.at(-1) > 1, "process RSS plotted");
    assert.ok(after.heatCount > before.heatCount, "the heatmap gained counts");
    assert.ok(after.topRows > 0, "top families listed");
    assert.deepEqual(errors, []);

    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    // Stopping the server: the page says the stream is lost.
    child.kill("SIGTERM");
    const { code } = await exited;
    assert.equal(code, 0);
    await page.waitForFunction(() => document.getElementById("status").className === "lost", { timeout: 5000 });
    const lost = await read();
    assert.equal(lost.connected, false);
  } finally {
    await browser.close();
    child.kill("SIGKILL");
  }
});
