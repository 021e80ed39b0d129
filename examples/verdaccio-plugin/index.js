// verdaccio-pkgprotect: a Verdaccio 6 auth plugin that applies GitLab package protection
// rules to `npm publish` (allow_publish) and `npm unpublish` (allow_unpublish), deciding
// through @pkgprotect/node (the pkgprotect.wasm component). It authenticates no one: list it
// with an authentication plugin (htpasswd, LDAP…) under `auth:`. It only ever refuses; when
// the rules allow, the next plugin and Verdaccio's `packages` access lists decide as usual.
import { errorUtils } from "@verdaccio/core";
import { DecisionError } from "@pkgprotect/node";
import { RuleSource } from "./lib/rules.js";
import { levelOf, readSettings } from "./lib/settings.js";

const VERBS = { push: "publish", delete: "unpublish" };

export default class PkgprotectPlugin {
  /** `config`: this plugin's block of config.yaml; `options`: Verdaccio's `{ config, logger }`. */
  constructor(config, options) {
    this.logger = options.logger;
    this.settings = readSettings(config, options.config?.configPath ?? options.config?.config_path);
    this.sources = this.settings.sources.map((source) => new RuleSource(source, this.logger));
    // Every source's first load; a decision waits for it, so startup cannot let a publish through.
    this.ready = Promise.all(this.sources.map((source) => source.start()));
  }

  /** Verdaccio's hook for publishing (and for every other change to a package's metadata). */
  allow_publish(user, pkg, callback) {
    this.check("push", user, pkg).then((allowed) => callback(null, allowed), callback);
  }

  /** Verdaccio's hook for unpublishing a version or a whole package. */
  allow_unpublish(user, pkg, callback) {
    this.check("delete", user, pkg).then((allowed) => callback(null, allowed), callback);
  }

  /**
   * `[null, false]` when no rule blocks (the next plugin decides), or a 403 error naming the
   * rule; a 503 error while a source has never loaded (fail closed).
   */
  async check(action, user, pkg) {
    await this.ready;
    const deployToken = user?.name !== undefined && this.settings.deployTokens.has(user.name);
    const level = levelOf(this.settings, user);
    const actor = deployToken ? { type: "deploy_token" } : { type: "user", access_level: level };
    const request = { package_name: pkg.name, package_type: this.settings.packageType, action, actor };
    const who = `${user?.name ? `\`${user.name}\`` : "anonymous"} (${deployToken ? "deploy token" : level})`;
    const refusal = `pkgprotect: ${who} may not ${VERBS[action]} \`${pkg.name}\``;
    for (const source of this.sources) {
      if (source.current === null) {
        throw errorUtils.getServiceUnavailable(`${refusal}: protection rules from ${source.label} are not loaded (${source.error})`);
      }
      let reason;
      try {
        // `decide` answers with scalars; only a refusal asks `explain` for the reason.
        if (!source.current.decide(request).allowed) reason = source.current.explain(request).reason;
      } catch (error) {
        if (!(error instanceof DecisionError)) throw error;
        // No decision (GitLab's own query fails here, HTTP 500): refused, as GitLab refuses it.
        throw errorUtils.getForbidden(`${refusal}: ${error.message} (rules of ${source.name})`);
      }
      if (reason !== undefined) {
        this.logger.warn({ user: user?.name, name: pkg.name, reason }, `${refusal}: @{reason}`);
        throw errorUtils.getForbidden(`${refusal}: ${reason} (rules of ${source.name})`);
      }
    }
    return false;
  }

  /** Stop reloading and free the rule sets (tests; Verdaccio itself never calls it). */
  close() {
    for (const source of this.sources) source.stop();
  }
}
