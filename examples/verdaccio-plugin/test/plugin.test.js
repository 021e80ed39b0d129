// The plugin's hooks called as Verdaccio calls them, without Verdaccio: settings, levels,
// refusals, failing closed, reloads, and the REST API's pages (served from 127.0.0.1).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, test } from "node:test";
import PkgprotectPlugin from "../index.js";
import { levelOf, readSettings } from "../lib/settings.js";
import { removeDir, tempDir } from "./harness.js";

const dir = tempDir();
after(() => removeDir(dir));

const rulesFile = join(dir, "rules.json");
const npmRule = (id, pattern, push, remove = null) => ({
  id,
  package_name_pattern: pattern,
  package_type: "npm",
  minimum_access_level_for_push: push,
  minimum_access_level_for_delete: remove,
});
writeFileSync(rulesFile, JSON.stringify([npmRule(1, "@demo/*", "maintainer", "owner"), npmRule(2, "@demo/core", "owner")]));

function quietLogger() {
  const lines = [];
  const keep = (level) => (fields, message) => lines.push({ level, fields, message });
  return { lines, info: keep("info"), warn: keep("warn"), error: keep("error"), debug: keep("debug"), trace: keep("trace") };
}

function plugin(config) {
  const logger = quietLogger();
  const instance = new PkgprotectPlugin(config, { config: { configPath: join(dir, "config.yaml") }, logger });
  return Object.assign(instance, { log: logger.lines });
}

/** Calls a hook as Verdaccio does; resolves to `{ error, allowed }`. */
function ask(instance, hook, user, name) {
  return new Promise((done) => instance[hook](user, { name, publish: [], unpublish: [] }, (error, allowed) => done({ error, allowed })));
}

const verdaccioUser = (name, ...groups) => ({ name, groups: [...groups, "$all", "$authenticated"], real_groups: groups });

test("settings refuse what would weaken protection, naming the key", () => {
  const cases = [
    [{}, /no rules: set `rules_file`/],
    [{ rules_file: "r.json", levels: { dev: "dev" } }, /levels\.dev: unknown access level `dev`/],
    [{ rules_file: "r.json", levels: ["dev"] }, /`levels` must map/],
    [{ rules_file: "r.json", default_level: "root" }, /default_level: unknown access level `root`/],
    [{ rules_file: "r.json", package_type: "gem" }, /package_type: unknown package type `gem`/],
    [{ rules_api: { url: "http://127.0.0.1:1" } }, /rules_api\.project is required/],
    [{ rules_api: { url: "not a url", project: "g/p", token: "t" } }, /rules_api\.url: `not a url` is not a URL/],
    [{ rules_api: { url: "http://127.0.0.1:1", project: "g/p" } }, /needs `token` or `token_env`/],
    [{ rules_api: { url: "http://127.0.0.1:1", project: "g/p", token_env: "PKGPROTECT_TEST_UNSET" } }, /`PKGPROTECT_TEST_UNSET` is not set/],
    [{ rules_api: { url: "http://127.0.0.1:1", project: "g/p", token: "t", refresh_seconds: "often" } }, /refresh_seconds must be a number/],
  ];
  for (const [config, message] of cases) {
    assert.throws(() => readSettings(config, "/etc/verdaccio/config.yaml"), (error) => {
      assert.equal(error.name, "SettingsError");
      assert.match(error.message, /^verdaccio-pkgprotect: /);
      assert.match(error.message, message);
      return true;
    });
  }
  const settings = readSettings({ rules_file: "r.json", rules_api: { url: "http://h:8/gitlab/", project: "g/p", token: "t" } }, "/etc/v/config.yaml");
  assert.equal(settings.sources[0].path, "/etc/v/r.json");
  assert.equal(settings.sources[1].url.href, "http://h:8/gitlab/api/v4/projects/g%2Fp/packages/protection/rules");
});

test("a user's level is the highest mapped to their name or groups, else default_level", () => {
  const settings = readSettings({ rules_file: "r.json", levels: { alice: "developer", admins: "owner", $authenticated: "reporter" } });
  assert.equal(levelOf(settings, verdaccioUser("alice")), "developer");
  assert.equal(levelOf(settings, verdaccioUser("alice", "admins")), "owner");
  assert.equal(levelOf(settings, verdaccioUser("carol")), "reporter");
  assert.equal(levelOf(settings, { name: undefined, groups: ["$all", "$anonymous"] }), "no_access");
  const strict = readSettings({ rules_file: "r.json", default_level: "guest" });
  assert.equal(levelOf(strict, verdaccioUser("carol")), "guest");
});

test("allow_publish refuses with 403 naming the rule; otherwise it defers to the next plugin", async () => {
  const instance = plugin({ rules_file: "./rules.json", levels: { dev: "developer", maint: "maintainer", ci: "owner" }, deploy_tokens: ["ci"] });
  try {
    const refused = await ask(instance, "allow_publish", verdaccioUser("dev"), "@demo/ui");
    assert.equal(refused.error.status, 403);
    assert.equal(
      refused.error.message,
      "pkgprotect: `dev` (developer) may not publish `@demo/ui`: blocked by rule 1 (`@demo/*`): push needs at least maintainer (rules of file `rules.json`)",
    );
    assert.deepEqual(await ask(instance, "allow_publish", verdaccioUser("maint"), "@demo/ui"), { error: null, allowed: false });
    const core = await ask(instance, "allow_publish", verdaccioUser("maint"), "@demo/core");
    assert.match(core.error.message, /blocked by rule 2 \(`@demo\/core`\): push needs at least owner/);
    assert.deepEqual(await ask(instance, "allow_publish", verdaccioUser("dev"), "other"), { error: null, allowed: false });
    // A deploy token is blocked by any matching rule, whatever the level mapped to its name.
    const ci = await ask(instance, "allow_publish", verdaccioUser("ci"), "@demo/ui");
    assert.match(ci.error.message, /^pkgprotect: `ci` \(deploy token\) may not publish `@demo\/ui`: blocked by rule 1/);
    const anonymous = await ask(instance, "allow_publish", { groups: ["$all", "$anonymous"] }, "@demo/ui");
    assert.match(anonymous.error.message, /^pkgprotect: anonymous \(no_access\) may not publish/);
    assert.ok(instance.log.some((line) => line.level === "warn" && line.fields.user === "dev"));
  } finally {
    instance.close();
  }
});

test("allow_unpublish asks for the delete level", async () => {
  const instance = plugin({ rules_file: "./rules.json", levels: { maint: "maintainer", own: "owner" } });
  try {
    const refused = await ask(instance, "allow_unpublish", verdaccioUser("maint"), "@demo/ui");
    assert.equal(refused.error.status, 403);
    assert.match(refused.error.message, /may not unpublish `@demo\/ui`: blocked by rule 1 \(`@demo\/\*`\): delete needs at least owner/);
    assert.deepEqual(await ask(instance, "allow_unpublish", verdaccioUser("own"), "@demo/ui"), { error: null, allowed: false });
    // Rule 2 restricts only push.
    assert.deepEqual(await ask(instance, "allow_unpublish", verdaccioUser("own"), "@demo/core"), { error: null, allowed: false });
  } finally {
    instance.close();
  }
});

test("rules that cannot be loaded refuse everything (503), and a failed reload keeps the last good rules", async () => {
  const broken = join(dir, "broken.json");
  writeFileSync(broken, JSON.stringify([{ package_name_pattern: "@demo/*", package_type: "npm", minimum_access_level_for_push: "owner" }]));
  const missingId = plugin({ rules_file: broken });
  const refused = await ask(missingId, "allow_publish", verdaccioUser("anyone"), "unrelated");
  assert.equal(refused.error.status, 503);
  assert.match(
    refused.error.message,
    /protection rules from .*broken\.json are not loaded \(rule at position 0 has no `id`; every rule needs one so decisions can name it\)$/,
  );
  missingId.close();

  const unreachable = plugin({ rules_api: { url: "http://127.0.0.1:9", project: "g/p", token: "secret-token" } });
  const down = await ask(unreachable, "allow_publish", verdaccioUser("anyone"), "unrelated");
  assert.equal(down.error.status, 503);
  assert.match(down.error.message, /are not loaded \(cannot reach `http:\/\/127\.0\.0\.1:9\/api\/v4\/projects\/g%2Fp\/packages\/protection\/rules`/);
  assert.ok(!JSON.stringify(unreachable.log).includes("secret-token"), "the token must not be logged");
  unreachable.close();

  const reloading = join(dir, "reloading.json");
  writeFileSync(reloading, JSON.stringify([npmRule(1, "@demo/*", "owner")]));
  const instance = plugin({ rules_file: reloading });
  try {
    assert.equal((await ask(instance, "allow_publish", verdaccioUser("x"), "@demo/a")).error.status, 403);
    writeFileSync(reloading, "[{");
    await instance.sources[0].load();
    assert.ok(
      instance.log.some(
        (line) => line.level === "warn" && /^the rules are not GitLab rule JSON \(line 1, column 2\)/.test(line.fields.message) && line.fields.kept,
      ),
      JSON.stringify(instance.log),
    );
    assert.equal((await ask(instance, "allow_publish", verdaccioUser("x"), "@demo/a")).error.status, 403);
    writeFileSync(reloading, JSON.stringify([npmRule(1, "@other/*", "owner")]));
    await instance.sources[0].load();
    assert.deepEqual(await ask(instance, "allow_publish", verdaccioUser("x"), "@demo/a"), { error: null, allowed: false });
  } finally {
    instance.close();
  }
});

test("rules_api sends PRIVATE-TOKEN and follows GitLab's x-next-page across pages", async () => {
  const pages = { 1: [npmRule(1, "@one/*", "owner")], 2: [npmRule(2, "@two/*", "owner")] };
  const seen = [];
  const gitlab = createServer((request, response) => {
    const url = new URL(request.url, "http://127.0.0.1");
    seen.push({ path: url.pathname, page: url.searchParams.get("page"), token: request.headers["private-token"] });
    const page = Number(url.searchParams.get("page"));
    response.writeHead(200, { "content-type": "application/json", "x-next-page": page < 2 ? String(page + 1) : "" });
    response.end(JSON.stringify(pages[page] ?? []));
  });
  await new Promise((done) => gitlab.listen(0, "127.0.0.1", done));
  const { port } = gitlab.address();
  const instance = plugin({ rules_api: { url: `http://127.0.0.1:${port}`, project: 42, token: "glpat-test" } });
  try {
    for (const name of ["@one/x", "@two/x"]) {
      assert.equal((await ask(instance, "allow_publish", verdaccioUser("x"), name)).error?.status, 403, name);
    }
    assert.deepEqual(seen, [
      { path: "/api/v4/projects/42/packages/protection/rules", page: "1", token: "glpat-test" },
      { path: "/api/v4/projects/42/packages/protection/rules", page: "2", token: "glpat-test" },
    ]);
  } finally {
    instance.close();
    gitlab.close();
  }
});

test("a file's rules are GitLab's JSON as the core reads it: a misspelt field is refused with its line", async () => {
  const typo = join(dir, "typo.json");
  writeFileSync(typo, '[\n  {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm",\n   "minimum_acess_level_for_push": "owner"}\n]');
  const instance = plugin({ rules_file: typo });
  try {
    const refused = await ask(instance, "allow_publish", verdaccioUser("anyone"), "@demo/a");
    assert.equal(refused.error.status, 503);
    assert.match(refused.error.message, /are not loaded \(the rules are not GitLab rule JSON \(line 3, column \d+\): unknown field `minimum_acess_level_for_push`/);
  } finally {
    instance.close();
  }
});

test("explain is asked only for refusals; a rule GitLab cannot evaluate refuses with 403", async () => {
  const file = join(dir, "escape.json");
  writeFileSync(
    file,
    JSON.stringify([npmRule(1, "@demo/*", "maintainer"), { id: 7, package_name_pattern: "@tools/cli\\", package_type: "npm", minimum_access_level_for_push: "owner" }]),
  );
  const instance = plugin({ rules_file: file, levels: { dev: "developer", own: "owner" } });
  try {
    await instance.ready;
    const set = instance.sources[0].current;
    let explained = 0;
    const explain = set.explain;
    set.explain = (request) => {
      explained++;
      return explain.call(set, request);
    };
    assert.deepEqual(await ask(instance, "allow_publish", verdaccioUser("own"), "@demo/a"), { error: null, allowed: false });
    assert.deepEqual(await ask(instance, "allow_publish", verdaccioUser("dev"), "other"), { error: null, allowed: false });
    assert.equal(explained, 0);
    assert.equal((await ask(instance, "allow_publish", verdaccioUser("dev"), "@demo/a")).error.status, 403);
    assert.equal(explained, 1);
    const failing = await ask(instance, "allow_publish", verdaccioUser("dev"), "@tools/cli-x");
    assert.equal(failing.error.status, 403);
    assert.equal(
      failing.error.message,
      "pkgprotect: `dev` (developer) may not publish `@tools/cli-x`: rule 7 cannot be evaluated against `@tools/cli-x`: " +
        'pattern `@tools/cli\\` ends with a lone `\\`: PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it (rules of file `escape.json`)',
    );
  } finally {
    instance.close();
  }
});

test("rules from the API that GitLab could not hold refuse everything, naming the rule's field", async () => {
  const gitlab = createServer((request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify([npmRule(1, "@one/*", "owner"), npmRule(1, "@two/*", "owner")]));
  });
  await new Promise((done) => gitlab.listen(0, "127.0.0.1", done));
  const instance = plugin({ rules_api: { url: `http://127.0.0.1:${gitlab.address().port}`, project: 42, token: "glpat-test" } });
  try {
    const refused = await ask(instance, "allow_publish", verdaccioUser("x"), "unrelated");
    assert.equal(refused.error.status, 503);
    assert.match(refused.error.message, /are not loaded \(rule id 1 appears more than once \(rules\[1\]\.id\)\)$/);
  } finally {
    instance.close();
    gitlab.close();
  }
});
