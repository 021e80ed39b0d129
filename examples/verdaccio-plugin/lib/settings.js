// The plugin's configuration (its block under `auth:` in Verdaccio's config.yaml), checked
// once at startup: a mistake stops Verdaccio with a message instead of weakening protection.
import { isAbsolute, dirname, resolve } from "node:path";

export const ACCESS_LEVELS = [
  "no_access", "minimal_access", "guest", "planner", "reporter", "developer", "maintainer", "owner", "admin",
];
const PACKAGE_TYPES = ["cargo", "conan", "generic", "helm", "maven", "npm", "nuget", "pypi", "terraform_module"];

export class SettingsError extends Error {
  constructor(message) {
    super(`verdaccio-pkgprotect: ${message}`);
    this.name = "SettingsError";
  }
}

const show = (value) => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;

function level(value, where) {
  if (!ACCESS_LEVELS.includes(value)) {
    throw new SettingsError(`${where}: unknown access level ${show(value)} (expected one of: ${ACCESS_LEVELS.join(", ")})`);
  }
  return value;
}

function seconds(value, where) {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0)) throw new SettingsError(`${where} must be a number of seconds, got ${show(value)}`);
  return value;
}

/**
 * `config`: the plugin's block (Verdaccio merges its whole configuration into it, so only the
 * keys below are read); `configPath`: Verdaccio's config file, relative paths start beside it.
 */
export function readSettings(config, configPath) {
  const base = configPath ? dirname(configPath) : process.cwd();
  const levels = config.levels ?? {};
  if (typeof levels !== "object" || Array.isArray(levels)) {
    throw new SettingsError("`levels` must map Verdaccio users and groups to GitLab access levels");
  }
  const settings = {
    levels: new Map(Object.entries(levels).map(([who, value]) => [who, level(value, `levels.${who}`)])),
    defaultLevel: level(config.default_level ?? "no_access", "default_level"),
    deployTokens: new Set(config.deploy_tokens ?? []),
    packageType: config.package_type ?? "npm",
    sources: [],
  };
  if (!PACKAGE_TYPES.includes(settings.packageType)) {
    throw new SettingsError(`package_type: unknown package type ${show(settings.packageType)}`);
  }
  if (config.rules_file !== undefined) {
    if (typeof config.rules_file !== "string") throw new SettingsError("`rules_file` must be a path");
    settings.sources.push({
      kind: "file",
      path: isAbsolute(config.rules_file) ? config.rules_file : resolve(base, config.rules_file),
      refreshSeconds: seconds(config.rules_file_refresh_seconds, "rules_file_refresh_seconds"),
    });
  }
  if (config.rules_api !== undefined) settings.sources.push(apiSource(config.rules_api));
  if (settings.sources.length === 0) {
    throw new SettingsError("no rules: set `rules_file` (GitLab REST JSON) and/or `rules_api` (a pkgprotect serve or GitLab)");
  }
  return settings;
}

function apiSource(api) {
  if (typeof api !== "object" || api === null) throw new SettingsError("`rules_api` must be a mapping with `url` and `project`");
  for (const key of ["url", "project"]) {
    if (api[key] === undefined || api[key] === "") throw new SettingsError(`rules_api.${key} is required`);
  }
  let url;
  try {
    url = new URL(String(api.url));
  } catch {
    throw new SettingsError(`rules_api.url: ${show(api.url)} is not a URL`);
  }
  let token = api.token;
  if (api.token_env !== undefined) {
    token = process.env[api.token_env];
    if (!token) throw new SettingsError(`rules_api.token_env: the environment variable ${show(api.token_env)} is not set`);
  }
  if (!token) throw new SettingsError("rules_api needs `token` or `token_env` (a token that may list the project's rules)");
  const project = String(api.project);
  return {
    kind: "api",
    project,
    url: new URL(
      `${url.pathname.replace(/\/$/, "")}/api/v4/projects/${encodeURIComponent(project)}/packages/protection/rules`,
      url,
    ),
    token,
    refreshSeconds: seconds(api.refresh_seconds, "rules_api.refresh_seconds"),
    timeoutSeconds: seconds(api.timeout_seconds ?? 10, "rules_api.timeout_seconds"),
  };
}

/** The user's GitLab access level: the highest mapped to their name or any of their groups. */
export function levelOf(settings, user) {
  let best = -1;
  for (const who of [user?.name, ...(user?.groups ?? [])]) {
    const mapped = who === undefined ? undefined : settings.levels.get(who);
    if (mapped !== undefined) best = Math.max(best, ACCESS_LEVELS.indexOf(mapped));
  }
  return best < 0 ? settings.defaultLevel : ACCESS_LEVELS[best];
}
