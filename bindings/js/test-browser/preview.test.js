// The preview page in headless Debian Chromium (playwright-core, no downloaded browser):
// typing a pattern shows the exact matching names with the matched parts highlighted,
// invalid patterns show GitLab's messages, the rules panel names the blocking rules.
//
//   npm --prefix bindings/js run test:browser     (after scripts/build-preview.sh)
// CHROMIUM overrides /usr/bin/chromium; PKGPROTECT_TEST_OUTPUT is where the screenshot goes.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const pageDir = join(root, "examples", "browser-preview");
const outputDir = process.env.PKGPROTECT_TEST_OUTPUT ?? join(root, "test-output");
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

let server;
let baseUrl;
let context;
let profile;
let page;
const consoleErrors = [];

/** A static server for the page directory, on 127.0.0.1 only, stopped after the tests. */
function serve(dir) {
  return createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const file = normalize(join(dir, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
}

before(async () => {
  server = serve(pageDir);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), "pkgprotect-chromium-"));
  // launchPersistentContext passes our fresh, throw-away profile as --user-data-dir.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  await page.goto(baseUrl);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Each listed match as [name, [highlighted parts]]. */
async function matches() {
  return page.$$eval("#matches li", (items) =>
    items.map((item) => [item.textContent, [...item.querySelectorAll("mark")].map((mark) => mark.textContent)]),
  );
}

async function typePattern(pattern) {
  await page.fill("#pattern", "");
  await page.type("#pattern", pattern);
}

test("the page loads the engine without errors", async () => {
  assert.match(await page.textContent("#engine"), /^Engine: pkgprotect \d+\.\d+\.\d+ \(WebAssembly\)\.$/);
  assert.match(await page.textContent("#names-count"), /^310 names$/);
  assert.deepEqual(consoleErrors, []);
});

test("typing a pattern lists exactly the matching names, matched parts highlighted", async () => {
  await page.selectOption("#kind", "package");
  await page.selectOption("#package-type", "npm");
  await typePattern("@demo/c*");
  assert.deepEqual(await matches(), [
    ["@demo/core", ["@demo/c"]],
    ["@demo/cli", ["@demo/c"]],
    ["@demo/charts", ["@demo/c"]],
    ["@demo/config", ["@demo/c"]],
    ["@demo/café", ["@demo/c"]],
    ["@DEMO/CORE", ["@DEMO/C"]],
  ]);
  assert.equal(await page.textContent("#match-count"), "6 of 310 names match");
  assert.match(await page.textContent("#preview-time"), /^Last preview: \d+\.\d\d ms for 310 names\.$/);
  assert.equal(await page.textContent("#pattern-errors"), "");

  // Highlights count UTF-16 code units: the emoji before `-tools` is two of them.
  await page.selectOption("#package-type", "generic");
  await typePattern("emoji-*-TOOLS");
  assert.deepEqual(await matches(), [["emoji-😀-tools", ["emoji-", "-tools"]]]);

  // PyPI rules match names as GitLab's user path does: `-`, `_`, `.` runs are equal.
  await page.selectOption("#package-type", "pypi");
  await typePattern("my-internal-*");
  assert.deepEqual(
    (await matches()).map(([name]) => name),
    ["my_internal_tool", "my-internal-api", "My.Internal.Utils", "my_internal__client", "my-internal-sdk",
      "my_internal_cli", "my.internal.auth", "MY_INTERNAL_LEGACY"],
  );
});

test("invalid patterns show GitLab's messages inline while typing", async () => {
  await page.selectOption("#package-type", "npm");
  await typePattern("@demo/ bad");
  assert.equal(
    await page.textContent("#pattern-errors li"),
    "Package name pattern should be a valid NPM package name with optional wildcard characters.",
  );
  assert.equal(await page.getAttribute("#pattern", "aria-invalid"), "true");
  assert.match(await page.textContent("#pattern-errors"), /HTTP 422/);

  await page.fill("#pattern", `@demo/${"a".repeat(250)}`);
  assert.deepEqual(await page.$$eval("#pattern-errors li", (items) => items.map((i) => i.textContent)), [
    "Package name pattern is too long (maximum is 255 characters)",
  ]);

  await page.fill("#pattern", "@demo/*");
  assert.equal(await page.textContent("#pattern-errors"), "");
  assert.equal(await page.getAttribute("#pattern", "aria-invalid"), null);
});

test("the rules panel shows which names are blocked and by which rule", async () => {
  await page.selectOption("#package-type", "npm");
  await page.selectOption("#actor", "developer");
  await page.selectOption("#action", "push");
  const row = page.locator("#blocked tbody tr", { hasText: /^@demo\/core/ });
  assert.deepEqual(await row.locator("td").allTextContents(), [
    "@demo/core",
    "1, 2",
    "blocked by rule 1 (`@demo/*`): push needs at least maintainer (and 1 more rule)",
  ]);
  assert.match(await page.textContent("#blocked-count"), /^\d+ of 310 names blocked for this actor and action\.$/);

  await page.selectOption("#actor", "maintainer");
  assert.equal(await page.locator("#blocked tbody tr").count(), 0);
  assert.equal(await page.textContent("#blocked-count"), "0 of 310 names blocked for this actor and action.");

  await page.selectOption("#actor", "developer");
  await page.fill("#pattern", "@demo/c*");
  mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: join(outputDir, "browser-preview.png"), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});

test("a pattern GitLab's query cannot evaluate: the names it fails for, and the refusals", async () => {
  await page.selectOption("#kind", "package");
  await page.selectOption("#package-type", "generic");
  await page.fill("#pattern", "emoji-\\");
  assert.deepEqual(await matches(), []);
  assert.equal(
    await page.textContent("#match-errors"),
    "GitLab's query would fail for 1 name: pattern `emoji-\\` ends with a lone `\\`: " +
      'PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it',
  );

  const demoRules = await page.inputValue("#rules");
  const rules = [{ id: 9, package_name_pattern: "emoji-\\", package_type: "generic", minimum_access_level_for_push: "owner" }];
  await page.fill("#rules", JSON.stringify(rules));
  await page.waitForFunction(() => document.querySelector("#blocked-count").textContent.startsWith("1 of"));
  assert.deepEqual(await page.locator("#blocked tbody tr td").allTextContents(), [
    "emoji-😀-tools",
    "—",
    "refused: GitLab's query fails (rule 9 cannot be evaluated against `emoji-😀-tools`: pattern `emoji-\\` ends with " +
      'a lone `\\`: PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it)',
  ]);

  // Rules GitLab's database could not hold: the field at fault in the rules' JSON.
  await page.fill("#rules", JSON.stringify([...rules, { ...rules[0], package_name_pattern: "x" }]));
  await page.waitForFunction(() => document.querySelector("#rules-errors").textContent !== "");
  assert.equal(await page.textContent("#rules-errors"), "rules[1].id: rule id 9 appears more than once");
  assert.equal(await page.getAttribute("#rules", "aria-invalid"), "true");

  await page.fill("#rules", demoRules);
  await page.waitForFunction(() => document.querySelector("#rules-errors").textContent === "");
  await page.selectOption("#package-type", "npm");
  assert.deepEqual(consoleErrors, []);
});
