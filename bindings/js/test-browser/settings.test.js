// The protection settings page (examples/browser-preview) in headless Debian Chromium
// (playwright-core, no downloaded browser) against a real `pkgprotect serve` with a throw-away
// SQLite data dir: sign in, both rule kinds created, a duplicate's 422, inline edit, delete
// through the dialog — each step checked against the REST API — a developer's read-only
// session, the token kept out of addresses and the access log, axe-core in every state, the
// preview (highlights, GitLab's messages, blocked names, lint) and 100,000 names per keystroke.
//
//   cargo build -p pkgprotect-cli && npm --prefix bindings/js run test:browser
// PKGPROTECT_BIN overrides target/debug/pkgprotect; CHROMIUM overrides /usr/bin/chromium;
// screenshots, axe reports and timings go to PKGPROTECT_TEST_OUTPUT (default test-output/).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = resolve(root, process.env.PKGPROTECT_BIN ?? "target/debug/pkgprotect");
const outputDir = process.env.PKGPROTECT_TEST_OUTPUT ?? join(root, "test-output");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const PROJECT = "demo-group/demo-project";
const API = `/api/v4/projects/${encodeURIComponent(PROJECT)}`;

let server;
let serverOut = "";
/** The server's log (tracing, on stdout after the start-up banner, and stderr): the access log. */
const serverLog = () => {
  const banner = serverOut.indexOf("pkgprotect server listening on");
  return serverOut.slice(serverOut.indexOf("\n", banner) + 1) + serverErr;
};
let serverErr = "";
let baseUrl;
let dataDir;
let profile;
let context;
let page;
let tokens;
const requestedUrls = [];
const consoleErrors = [];
const axeReport = {};

/** Start `pkgprotect serve --demo` on a free port and read the demo's tokens from its output. */
async function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), "pkgprotect-page-"));
  server = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--demo",
    "--static-dir", join(root, "examples", "browser-preview")], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  server.stderr.on("data", (chunk) => (serverErr += chunk));
  await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${serverOut}\n${serverErr}`)), 60_000);
    server.on("exit", (code) => reject(new Error(`server exited (${code}):\n${serverErr}`)));
    server.stdout.on("data", (chunk) => {
      serverOut += chunk;
      const listening = serverOut.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (listening) {
        clearTimeout(timer);
        resolvePromise();
        baseUrl = listening[1];
      }
    });
  });
  const token = (who) => serverOut.match(new RegExp(`${who}:\\s+(\\S+)`))[1];
  tokens = { maintainer: token("maintainer"), developer: token("developer") };
}

/** The REST API as a client sees it. */
async function rest(method, path, token = tokens.maintainer, body) {
  const response = await fetch(baseUrl + API + path, {
    method,
    headers: { "PRIVATE-TOKEN": token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
const packageRules = async () => (await rest("GET", "/packages/protection/rules")).body;
const containerRules = async () => (await rest("GET", "/registry/protection/repository/rules")).body;

async function shot(name) {
  await page.screenshot({ path: join(outputDir, `settings-${name}.png`), fullPage: true });
}

/** axe-core over the whole page: no serious or critical violation. */
async function axe(state) {
  // Evaluated through the DevTools protocol: the page's CSP (own scripts only) stays in force.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport[state] = results.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe in state "${state}"`,
  );
}

/** The rows of a rule table as their cells' text (without the actions cell). */
async function tableRows(kind) {
  return page.$$eval(`#${kind}-table tbody tr`, (rows) =>
    rows.map((row) => [...row.cells].filter((c) => !c.classList.contains("actions")).map((c) => c.textContent)));
}

const matches = () =>
  page.$$eval("#matches li", (items) =>
    items.map((item) => [item.textContent, [...item.querySelectorAll("mark")].map((mark) => mark.textContent)]));

before(async () => {
  mkdirSync(outputDir, { recursive: true });
  await startServer();
  profile = mkdtempSync(join(tmpdir(), "pkgprotect-chromium-"));
  // launchPersistentContext passes our fresh, throw-away profile as --user-data-dir.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    // The browser logs each HTTP error answer; the page's own handling is what is tested.
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) consoleErrors.push(message.text());
  });
  page.on("request", (request) => requestedUrls.push(request.url()));
  await page.goto(baseUrl + "/");
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
});

after(async () => {
  writeFileSync(join(outputDir, "settings-axe.json"), JSON.stringify(axeReport, null, 2));
  await context?.close();
  server?.kill("SIGTERM");
  if (server) await new Promise((r) => (server.exitCode !== null ? r() : server.on("exit", r)));
  for (const dir of [profile, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test("signed out: the engine loads, the preview works on its own", async () => {
  assert.match(await page.textContent("#engine"), /^Engine: pkgprotect \d+\.\d+\.\d+ \(WebAssembly\)\.$/);
  assert.equal(await page.textContent("#names-count"), "310 names");
  assert.equal(await page.isVisible("#settings"), false);
  await axe("signed out");
  await shot("01-signed-out");

  await page.selectOption("#target-kind", "npm");
  await page.fill("#pattern", "");
  await page.type("#pattern", "@demo/c*");
  assert.deepEqual(await matches(), [
    ["@demo/core", ["@demo/c"]],
    ["@demo/cli", ["@demo/c"]],
    ["@demo/charts", ["@demo/c"]],
    ["@demo/config", ["@demo/c"]],
    ["@demo/café", ["@demo/c"]],
    ["@DEMO/CORE", ["@DEMO/C"]],
  ]);
  assert.equal(await page.textContent("#match-count"), "6 of 310 names match");
  assert.match(await page.textContent("#preview-time"), /^Last keystroke: \d+\.\d\d ms for 310 names\.$/);

  // Highlights count UTF-16 code units: the emoji before `-tools` is two of them.
  await page.selectOption("#target-kind", "generic");
  await page.fill("#pattern", "emoji-*-TOOLS");
  assert.deepEqual(await matches(), [["emoji-😀-tools", ["emoji-", "-tools"]]]);

  // PyPI rules match names as GitLab's user path does: `-`, `_`, `.` runs are equal.
  await page.selectOption("#target-kind", "pypi");
  await page.fill("#pattern", "my-internal-*");
  assert.deepEqual((await matches()).map(([name]) => name), ["my_internal_tool", "my-internal-api",
    "My.Internal.Utils", "my_internal__client", "my-internal-sdk", "my_internal_cli", "my.internal.auth",
    "MY_INTERNAL_LEGACY"]);

  // GitLab's messages for a pattern it would refuse, and the names its query would fail for.
  await page.selectOption("#target-kind", "npm");
  await page.fill("#pattern", "@demo/ bad");
  assert.equal(await page.textContent("#pattern-errors li"),
    "Package name pattern should be a valid NPM package name with optional wildcard characters.");
  assert.match(await page.textContent("#pattern-errors"), /HTTP 422/);
  assert.equal(await page.getAttribute("#pattern", "aria-invalid"), "true");
  await page.selectOption("#target-kind", "generic");
  await page.fill("#pattern", "emoji-\\");
  assert.deepEqual(await matches(), []);
  assert.match(await page.textContent("#match-errors"), /^GitLab's query would fail for 1 name: pattern `emoji-\\`/);
  await page.fill("#pattern", "");
  await page.selectOption("#target-kind", "npm");
  assert.deepEqual(consoleErrors, []);

  // The page's CSP: a script injected into it does not run (the token is in sessionStorage).
  const violated = await page.evaluate(() => new Promise((resolvePromise) => {
    document.addEventListener("securitypolicyviolation", (e) => resolvePromise(e.effectiveDirective), { once: true });
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.head.append(script);
  }));
  assert.equal(violated, "script-src-elem");
  assert.equal(await page.evaluate(() => window.injected), undefined);
  await page.waitForTimeout(100);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((m) => !/Content.Security.Policy/i.test(m)));
});

test("sign in: a wrong token and an unknown project are explained; the token stays out of the address", async () => {
  await page.fill("#token", "glpat-not-a-token");
  await page.press("#token", "Enter");
  await page.waitForFunction(() => document.querySelector("#session-message").textContent !== "");
  assert.match(await page.textContent("#session-message"), /did not accept the token \(HTTP 401\)/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("pkgprotect.token")), null);

  await page.fill("#token", tokens.maintainer);
  await page.click("#signin");
  await page.waitForSelector("#project", { state: "visible" });
  assert.equal(await page.evaluate(() => sessionStorage.getItem("pkgprotect.token")), tokens.maintainer);
  assert.equal(await page.inputValue("#token"), "", "the token field is emptied");

  await page.fill("#project", "demo-group/nothing-here");
  await page.press("#project", "Enter");
  await page.waitForFunction(() => document.querySelector("#session-message").textContent !== "");
  assert.equal(await page.textContent("#session-message"),
    "There is no project “demo-group/nothing-here”, or you are not a member of it (HTTP 404).");
  await axe("project not found");

  await page.fill("#project", PROJECT);
  await page.click("#open-project");
  await page.waitForSelector("#package-table tbody tr");
  const stored = await packageRules();
  assert.deepEqual((await tableRows("package")).map((cells) => cells[0]), stored.map((r) => r.package_name_pattern));
  assert.deepEqual(await tableRows("container_repository"), [["demo-group/demo-project/release/*", "Maintainer", "Owner"]]);
  assert.equal(await page.textContent("#package-status"), `${stored.length} rules.`);
  assert.ok(!page.url().includes(tokens.maintainer));
  // A reload keeps the session (sessionStorage), with nothing added to the address.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector("#package-table tbody tr");
  assert.equal(page.url(), baseUrl + "/");
  await axe("maintainer, project open");
  await shot("02-project-open");
});

test("add a package rule: validated live by the core, created through the API", async () => {
  await page.click("#package-add");
  const pattern = page.locator("#package-form input[name=package_name_pattern]");
  assert.ok(await pattern.evaluate((node) => node === document.activeElement), "the pattern field has focus");
  await pattern.type("@demo/ bad");
  assert.equal(await page.textContent("#package-form .field-errors"),
    "Package name pattern should be a valid NPM package name with optional wildcard characters.");
  assert.equal(await page.textContent("#package-form-verdict"), "GitLab would refuse this rule with HTTP 422.");
  await pattern.fill("");
  await pattern.type("@demo/c*");
  assert.equal(await page.textContent("#package-form-verdict"), "GitLab would accept this rule (HTTP 201).");
  // The preview follows the form as the user types.
  assert.equal(await page.inputValue("#pattern"), "@demo/c*");
  assert.equal(await page.textContent("#match-count"), "6 of 310 names match");
  // Package delete needs owner or admin: the core says so on the field, as GitLab would (400).
  await page.selectOption("#package-form select[name=minimum_access_level_for_delete]", "maintainer");
  assert.match(await page.textContent("#package-form-verdict"), /HTTP 400/);
  assert.match(await page.textContent("#package-form select[name=minimum_access_level_for_delete] + .field-errors"),
    /minimum_access_level_for_delete does not have a valid value/);
  await page.selectOption("#package-form select[name=minimum_access_level_for_delete]", "owner");
  await pattern.fill("@internal/*");
  await page.selectOption("#package-form select[name=minimum_access_level_for_push]", "owner");
  // The rule being written joins the project's rules in "which names would be blocked".
  await page.selectOption("#actor", "maintainer");
  await page.waitForFunction(() => document.querySelector("#blocked-count").textContent.startsWith("5 of 310"));
  assert.deepEqual(await page.locator("#blocked tbody tr").first().locator("td").allTextContents(), ["@internal/secrets",
    "the new rule", `blocked by rule ${(await packageRules()).length + 1} (\`@internal/*\`): push needs at least owner`]);
  await page.uncheck("#with-draft");
  assert.equal(await page.textContent("#blocked-count"), "0 of 310 names blocked for this actor and action.");
  await page.check("#with-draft");
  await page.selectOption("#actor", "developer");
  await shot("03-package-form");
  await axe("add package form");
  await page.click("#package-form button[type=submit]");
  await page.waitForFunction(() => /created \(HTTP 201\)/.test(document.querySelector("#package-status").textContent));
  assert.equal(await page.isVisible("#package-form"), false);

  const created = (await packageRules()).find((r) => r.package_name_pattern === "@internal/*");
  assert.deepEqual(created, { id: created.id, project_id: created.project_id, package_name_pattern: "@internal/*",
    package_type: "npm", minimum_access_level_for_push: "owner", minimum_access_level_for_delete: "owner" });
  assert.deepEqual(await page.locator(`#package-rule-${created.id} td:not(.actions)`).allTextContents(),
    ["@internal/*", "npm", "Owner", "Owner"]);
  assert.ok(await page.locator(`#package-rule-${created.id}`).evaluate((row) => row === document.activeElement));
  await shot("04-package-created");
});

test("add a container rule with the keyboard only: the project path checked live; created through the API", async () => {
  await page.focus("#container_repository-add");
  await page.keyboard.press("Enter");
  // Focus moves to the new form's pattern field, and the focus ring is visible.
  const pattern = page.locator("#container_repository-form input[name=repository_path_pattern]");
  assert.ok(await pattern.evaluate((node) => node === document.activeElement));
  assert.equal(await pattern.evaluate((node) => getComputedStyle(node).outlineStyle), "solid");
  await page.keyboard.type("other-group/x/*");
  assert.equal(await page.textContent("#container_repository-form .field-errors"),
    "Repository path pattern should start with the project's full path");
  assert.match(await page.textContent("#container_repository-form-verdict"), /HTTP 422/);
  assert.equal(await page.inputValue("#target-kind"), "container_repository");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("demo-group/demo-project/dev-*");
  await page.keyboard.press("Tab"); // minimum for push: Maintainer (GitLab's default)
  await page.keyboard.press("Tab"); // minimum for delete: (none) → Maintainer
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.inputValue("#container_repository-form select[name=minimum_access_level_for_delete]"), "maintainer");
  assert.equal(await page.textContent("#container_repository-form-verdict"), "GitLab would accept this rule (HTTP 201).");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Protect");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    /created \(HTTP 201\)/.test(document.querySelector("#container_repository-status").textContent));
  const rules = await containerRules();
  assert.deepEqual(rules.map((r) => [r.repository_path_pattern, r.minimum_access_level_for_push, r.minimum_access_level_for_delete]), [
    ["demo-group/demo-project/release/*", "maintainer", "owner"],
    ["demo-group/demo-project/dev-*", "maintainer", "maintainer"],
  ]);
  assert.deepEqual(await tableRows("container_repository"), [
    ["demo-group/demo-project/release/*", "Maintainer", "Owner"],
    ["demo-group/demo-project/dev-*", "Maintainer", "Maintainer"],
  ]);
  await shot("05-container-created");
});

test("a taken pattern: the core predicts GitLab's 422, the server answers it, nothing is stored", async () => {
  const before = await packageRules();
  await page.click("#package-add");
  const pattern = page.locator("#package-form input[name=package_name_pattern]");
  await pattern.type("@internal/*");
  assert.equal(await page.textContent("#package-form-verdict"), "GitLab would refuse this rule with HTTP 422.");
  assert.match(await page.textContent("#package-form .field-errors"), /taken/i);
  await page.click("#package-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#package-form-message").textContent !== "");
  const message = await page.textContent("#package-form-message");
  assert.match(message, /^The server refused the rule \(HTTP 422\): /);
  const direct = await rest("POST", "/packages/protection/rules", tokens.maintainer,
    { package_name_pattern: "@internal/*", package_type: "npm", minimum_access_level_for_push: "owner" });
  assert.equal(direct.status, 422);
  assert.equal(message, `The server refused the rule (HTTP 422): ${direct.body.message.error.join(" ")}`);
  assert.deepEqual(await packageRules(), before);
  await shot("06-duplicate-422");
  await axe("duplicate refused");
  await page.click("#package-form .cancel");
  assert.equal(await page.isVisible("#package-form"), false);
});

test("inline edit: a rule's row becomes its form; the change is a PATCH", async () => {
  const rule = (await packageRules()).find((r) => r.package_name_pattern === "@internal/*");
  const row = page.locator(`#package-rule-${rule.id}`);
  await row.locator("button.edit").click();
  const pattern = row.locator("input[name=package_name_pattern]");
  assert.ok(await pattern.evaluate((node) => node === document.activeElement));
  // The stored rule itself is no duplicate; another rule's pattern is.
  await pattern.fill("@demo/core");
  assert.match(await row.locator(".verdict").textContent(), /HTTP 422/);
  await pattern.fill("@demo/private-*");
  assert.equal(await row.locator(".verdict").textContent(), "GitLab would accept this change.");
  await row.locator("select[name=minimum_access_level_for_push]").selectOption("maintainer");
  await shot("07-inline-edit");
  await axe("inline edit");
  await row.locator("button[type=submit]").click();
  await page.waitForFunction(() => /saved \(HTTP 200\)/.test(document.querySelector("#package-status").textContent));
  const stored = (await packageRules()).find((r) => r.id === rule.id);
  assert.deepEqual(stored, { ...rule, package_name_pattern: "@demo/private-*", minimum_access_level_for_push: "maintainer" });
  assert.deepEqual(await page.locator(`#package-rule-${rule.id} td:not(.actions)`).allTextContents(),
    ["@demo/private-*", "npm", "Maintainer", "Owner"]);
  await shot("08-edited");
});

test("delete through the confirmation dialog, by keyboard; cancel keeps the rule", async () => {
  const rule = (await containerRules()).find((r) => r.repository_path_pattern === "demo-group/demo-project/dev-*");
  const remove = page.locator(`#container_repository-rule-${rule.id} button.delete`);
  await remove.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("#delete-dialog[open]");
  assert.equal(await page.textContent("#delete-title"), "Delete container repository protection rule?");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Cancel");
  await axe("delete dialog");
  await shot("09-delete-dialog");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector("#delete-dialog").open);
  assert.equal((await containerRules()).length, 2);

  await remove.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("#delete-dialog[open]");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Delete");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    /deleted \(HTTP 204\)/.test(document.querySelector("#container_repository-status").textContent));
  assert.deepEqual((await containerRules()).map((r) => r.repository_path_pattern), ["demo-group/demo-project/release/*"]);
  assert.equal(await page.locator(`#container_repository-rule-${rule.id}`).count(), 0);
  await shot("10-deleted");
});

test("blocked names for an actor and action, and the linter's advice linked to its rules", async () => {
  await page.selectOption("#target-kind", "npm");
  await page.selectOption("#actor", "developer");
  await page.selectOption("#action", "push");
  const row = page.locator("#blocked tbody tr", { hasText: /^@demo\/core/ });
  assert.deepEqual(await row.locator("td").allTextContents(), ["@demo/core", "1, 2",
    "blocked by rule 1 (`@demo/*`): push needs at least maintainer (and 1 more rule)"]);
  await page.selectOption("#actor", "maintainer");
  assert.equal(await page.textContent("#blocked-count"), "0 of 310 names blocked for this actor and action.");
  await page.selectOption("#actor", "developer");

  const finding = page.locator("#lint li", { hasText: "@demo/core" }).first();
  const links = await finding.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.ok(links.includes("#package-rule-2"), `lint links: ${links}`);
  await finding.locator('a[href="#package-rule-2"]').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "package-rule-2");
  await shot("11-blocked-and-lint");
});

test("the project's names: pasted, remembered for the project, restored when it is opened again", async () => {
  await page.fill("#names", "@internal/a\n@demo/b\r\n\n@internal/c\n");
  await page.waitForFunction(() => document.querySelector("#names-count").textContent === "3 names");
  await page.fill("#pattern", "@internal/*");
  assert.deepEqual((await matches()).map(([name]) => name), ["@internal/a", "@internal/c"]);
  await page.click("#names-remember");
  assert.equal(await page.textContent("#names-count"), `3 names, remembered for ${PROJECT}`);
  await page.click("#names-reset");
  assert.equal(await page.textContent("#names-count"), "310 names");
  await page.click("#open-project");
  await page.waitForFunction(() => document.querySelector("#names-count").textContent === "3 names");
  await page.evaluate(() => localStorage.clear());
  await page.click("#names-reset");
  await page.fill("#pattern", "");
});

test("100,000 names: each keystroke re-previewed within 16 ms", async () => {
  const names = Array.from({ length: 100_000 }, (_, i) =>
    i % 10 === 0 ? `@acme/pkg-${i}` : i % 10 === 1 ? `@demo/lib-${i}` : `unscoped-package-${i}-plugin`);
  await page.setInputFiles("#names-file", { name: "names.txt", mimeType: "text/plain", buffer: Buffer.from(names.join("\n") + "\n") });
  await page.waitForFunction(() => document.querySelector("#names-count").textContent === "100000 names");
  // Each keystroke's time is the page's own measure (window.pkgprotectTimings): from the input
  // event to the preview drawn. The text is typed three times and each keystroke keeps its
  // best time: on a shared 2-core machine one run can be preempted, which is not the page.
  const sample = async (selector, text) => {
    const runs = [];
    for (let run = 0; run < 3; run++) {
      await page.fill(selector, "");
      await page.evaluate(() => (window.pkgprotectTimings.length = 0));
      await page.focus(selector);
      await page.keyboard.type(text);
      runs.push(await page.evaluate(() => [...window.pkgprotectTimings]));
    }
    for (const times of runs) assert.equal(times.length, text.length, "one preview per keystroke");
    return { best: runs[0].map((_, i) => Math.min(...runs.map((times) => times[i]))), all: runs.flat() };
  };
  await sample("#pattern", "warm-up*"); // first calls compile and size the Wasm memory
  const preview = await sample("#pattern", "@acme/pkg-1*");
  assert.match(await page.textContent("#match-count"), /^1111 of 100000 names match \(the first 200 are shown\)$/);
  await page.click("#package-add");
  const form = await sample("#package-form input[name=package_name_pattern]", "*-plugin");
  assert.match(await page.textContent("#match-count"), /^80000 of 100000 names match \(the first 200 are shown\)$/);
  await page.click("#package-form .cancel");
  // The same keystrokes up to the page laid out again: the input event dispatched in the page,
  // then style and layout forced (document.body.offsetHeight). Paint is not included.
  const laidOut = async (text) => {
    const runs = [];
    for (let run = 0; run < 3; run++) {
      runs.push(await page.evaluate((typed) => {
        const input = document.querySelector("#pattern");
        input.value = "";
        const times = [];
        for (const char of typed) {
          const start = performance.now();
          input.value += char;
          input.dispatchEvent(new InputEvent("input", { bubbles: true, data: char, inputType: "insertText" }));
          void document.body.offsetHeight;
          times.push(performance.now() - start);
        }
        return times;
      }, text));
    }
    return { best: runs[0].map((_, i) => Math.min(...runs.map((times) => times[i]))), all: runs.flat() };
  };
  const layoutNarrow = await laidOut("@acme/pkg-1*");
  const layoutBroad = await laidOut("*-plugin");
  const stats = (ms) => {
    const sorted = [...ms].sort((a, b) => a - b);
    const round = (t) => Math.round(t * 100) / 100;
    return { median: round(sorted[sorted.length >> 1]), max: round(sorted.at(-1)) };
  };
  const report = {
    names: 100_000,
    previewField: { pattern: "@acme/pkg-1*", best: stats(preview.best), everyRun: stats(preview.all) },
    addFormField: { pattern: "*-plugin", best: stats(form.best), everyRun: stats(form.all) },
    untilLaidOut: {
      "@acme/pkg-1*": { best: stats(layoutNarrow.best), everyRun: stats(layoutNarrow.all) },
      "*-plugin": { best: stats(layoutBroad.best), everyRun: stats(layoutBroad.all) },
    },
  };
  writeFileSync(join(outputDir, "settings-keystroke-timing.json"), JSON.stringify(report, null, 2));
  console.log(`keystroke timing over 100,000 names: ${JSON.stringify(report)}`);
  for (const [what, { best }] of [["preview field", preview], ["add form", form],
    ["until laid out, narrow pattern", layoutNarrow], ["until laid out, broad pattern", layoutBroad]]) {
    assert.ok(Math.max(...best) <= 16, `${what}: keystrokes took ${best.map((t) => t.toFixed(1)).join(", ")} ms`);
  }
  await page.click("#names-reset");
  await page.waitForFunction(() => document.querySelector("#names-count").textContent === "310 names");
});

test("360 px wide and dark: nothing scrolls sideways, axe passes", async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  await page.emulateMedia({ colorScheme: "dark" });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360),
    `page is ${await page.evaluate(() => document.documentElement.scrollWidth)} px wide`);
  await axe("360 px, dark");
  await shot("12-narrow-dark");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: "light" });
});

test("a developer's session: the rules are not manageable, no edit controls", async () => {
  await page.click("#signout");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("pkgprotect.token")), null);
  assert.match(await page.textContent("#session-message"), /Signed out/);
  assert.equal(await page.isVisible("#settings"), false);

  assert.equal((await rest("GET", "/packages/protection/rules", tokens.developer)).status, 403);
  await page.fill("#token", tokens.developer);
  await page.click("#signin");
  await page.waitForSelector("#project", { state: "visible" });
  await page.fill("#project", PROJECT);
  await page.click("#open-project");
  await page.waitForSelector("#access-notice", { state: "visible" });
  assert.match(await page.textContent("#access-notice"), /may not see or manage its protection rules .*HTTP 403/);
  assert.equal(await page.locator("#settings button:visible").count(), 0, "no edit controls");
  assert.equal(await page.locator("#package-add").isVisible(), false);
  assert.equal(await page.locator("#package-table").isVisible(), false);
  await axe("developer");
  await shot("13-developer");
  await page.click("#signout");
});

test("the token never appears in an address or in the server's access log", async () => {
  for (const token of Object.values(tokens)) {
    assert.ok(!requestedUrls.some((url) => url.includes(token)), "no request address carries a token");
    assert.ok(!serverLog().includes(token), "the access log holds no token");
  }
  assert.match(serverLog(), /PATCH.*\/packages\/protection\/rules\/\d+.*status=200/, "the access log was written");
  assert.ok(requestedUrls.some((url) => url.includes("/packages/protection/rules")));
  assert.deepEqual(consoleErrors, []);
});
