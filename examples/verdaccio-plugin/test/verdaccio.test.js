// End to end: a real Verdaccio 6 with this plugin, rules from a real `pkgprotect serve --demo`
// (refreshed every second) and from a JSON file, and the real npm client publishing and
// unpublishing as users of different GitLab levels. Nothing leaves 127.0.0.1.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { packageDir, removeDir, startPkgprotect, startVerdaccio, tempDir } from "./harness.js";

const dir = tempDir();
let server;
let registry;
const users = {};

before(async () => {
  server = await startPkgprotect(dir);
  writeFileSync(
    join(dir, "rules.json"),
    JSON.stringify([
      { id: 1, package_name_pattern: "@files/*", package_type: "npm", minimum_access_level_for_push: "owner", minimum_access_level_for_delete: null },
    ]),
  );
  registry = await startVerdaccio(dir, {
    levels: { dev: "developer", maint: "maintainer", own: "owner" },
    rules_file: "./rules.json",
    rules_api: { url: server.url, project: server.project, token: server.maintainerToken, refresh_seconds: 1 },
  });
  for (const name of ["dev", "maint", "own"]) users[name] = await registry.adduser(name);
});

after(async () => {
  await registry?.stop();
  await server?.stop();
  removeDir(dir);
});

/** `npm publish` of `name@version` as `user`. */
const publish = (user, name, version) => registry.npm(users[user], packageDir(dir, name, version), ["publish"]);
/** `npm unpublish spec` as `user` (`--force`: the whole package). */
const unpublish = (user, spec, ...flags) => registry.npm(users[user], dir, ["unpublish", spec, ...flags]);

function succeeds(result, what) {
  assert.equal(result.status, 0, `${what} failed:\n${result.stderr}`);
}

/** npm's own error output: the HTTP status and the registry's message, as a user sees them. */
function refused(result, what, message) {
  assert.notEqual(result.status, 0, `${what} succeeded:\n${result.stdout}`);
  assert.match(result.stderr, /npm error 403 403 Forbidden - (PUT|DELETE) http:\/\/127\.0\.0\.1:\d+\/\S+ - pkgprotect: /);
  assert.ok(result.stderr.includes(message), `${what}: npm printed\n${result.stderr}`);
}

async function versions(name) {
  const response = await fetch(`${registry.url}/${name.replace("/", "%2f")}`);
  return response.status === 404 ? [] : Object.keys((await response.json()).versions).sort();
}

test("a developer cannot publish @demo/protected-pkg: npm shows the rule and the level it needs", async () => {
  refused(
    publish("dev", "@demo/protected-pkg", "1.0.0"),
    "developer publish",
    "pkgprotect: `dev` (developer) may not publish `@demo/protected-pkg`: blocked by rule 1 (`@demo/*`): push needs at least maintainer (rules of project `demo-group/demo-project`)",
  );
  assert.deepEqual(await versions("@demo/protected-pkg"), []);
});

test("a maintainer can publish it; a developer can publish an unprotected package", async () => {
  succeeds(publish("maint", "@demo/protected-pkg", "1.0.0"), "maintainer publish");
  succeeds(publish("maint", "@demo/protected-pkg", "1.0.1"), "maintainer publish of a second version");
  succeeds(publish("dev", "plain-pkg", "1.0.0"), "developer publish of an unprotected package");
  assert.deepEqual(await versions("@demo/protected-pkg"), ["1.0.0", "1.0.1"]);
  assert.deepEqual(await versions("plain-pkg"), ["1.0.0"]);
});

test("rules from the JSON file apply too, naming the file", async () => {
  refused(
    publish("maint", "@files/tool", "1.0.0"),
    "maintainer publish under @files",
    "blocked by rule 1 (`@files/*`): push needs at least owner (rules of file `rules.json`)",
  );
  succeeds(publish("own", "@files/tool", "1.0.0"), "owner publish under @files");
});

test("npm unpublish needs the delete level: maintainer refused, owner allowed", async () => {
  refused(
    unpublish("maint", "@demo/protected-pkg@1.0.1"),
    "maintainer unpublish of a version",
    "pkgprotect: `maint` (maintainer) may not unpublish `@demo/protected-pkg`: blocked by rule 1 (`@demo/*`): delete needs at least owner",
  );
  refused(unpublish("maint", "@demo/protected-pkg", "--force"), "maintainer unpublish of the package", "delete needs at least owner");
  assert.deepEqual(await versions("@demo/protected-pkg"), ["1.0.0", "1.0.1"]);
  succeeds(unpublish("own", "@demo/protected-pkg@1.0.1"), "owner unpublish of a version");
  assert.deepEqual(await versions("@demo/protected-pkg"), ["1.0.0"]);
  // No delete minimum on the file's rule, and no rule at all on plain-pkg.
  succeeds(unpublish("own", "@files/tool", "--force"), "owner unpublish under @files");
  succeeds(unpublish("dev", "plain-pkg", "--force"), "developer unpublish of an unprotected package");
  assert.deepEqual(await versions("plain-pkg"), []);
});

test("a rule created on the server applies after the refresh interval", async () => {
  succeeds(publish("dev", "@late/pkg", "1.0.0"), "developer publish before the rule exists");
  const created = await fetch(`${server.url}/api/v4/projects/${encodeURIComponent(server.project)}/packages/protection/rules`, {
    method: "POST",
    headers: { "PRIVATE-TOKEN": server.maintainerToken, "content-type": "application/json" },
    body: JSON.stringify({ package_name_pattern: "@late/*", package_type: "npm", minimum_access_level_for_push: "maintainer" }),
  });
  const rule = await created.json();
  assert.equal(created.status, 201, JSON.stringify(rule));
  const { id } = rule;
  await new Promise((done) => setTimeout(done, 2500));
  refused(publish("dev", "@late/pkg", "1.0.1"), "developer publish after the rule", `blocked by rule ${id} (\`@late/*\`)`);
});
