// Where the protection rules come from: a JSON file (GitLab REST shape, compiled from its text)
// and/or the REST API of a running `pkgprotect serve` (or GitLab itself, its pages compiled as
// one list), each compiled into a rule set of the Node SDK and reloaded every `refresh_seconds`.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { RuleSet } from "@pkgprotect/node";

/** GitLab pages its lists; follow `x-next-page` (at most this many pages). */
const MAX_PAGES = 100;

async function fetchRules(source) {
  const rules = [];
  let page = "1";
  for (let n = 0; page && n < MAX_PAGES; n++) {
    const url = new URL(source.url);
    url.searchParams.set("per_page", "100");
    url.searchParams.set("page", page);
    let response;
    try {
      response = await fetch(url, {
        headers: { "PRIVATE-TOKEN": source.token, accept: "application/json" },
        signal: AbortSignal.timeout(source.timeoutSeconds * 1000),
      });
    } catch (error) {
      throw new Error(`cannot reach \`${source.url}\`: ${error.cause?.message ?? error.message}`);
    }
    if (!response.ok) {
      const body = (await response.text()).slice(0, 200);
      throw new Error(`\`${source.url}\` answered ${response.status}: ${body}`);
    }
    const list = await response.json();
    if (!Array.isArray(list)) throw new Error(`\`${source.url}\` did not answer with a list of rules`);
    rules.push(...list);
    page = response.headers.get("x-next-page");
  }
  return rules;
}

/** The file's text, GitLab's REST JSON as is: the core parses it (errors name the line and column). */
async function readRules(source) {
  try {
    return await readFile(source.path, "utf8");
  } catch (error) {
    throw new Error(`cannot read \`${source.path}\`: ${error.message}`);
  }
}

/** One source of rules: `current` is its last good rule set (null until the first load). */
export class RuleSource {
  constructor(source, logger) {
    this.source = source;
    this.logger = logger;
    this.label = source.kind === "file" ? source.path : source.url.href;
    /** For refusals: which rules a rule id belongs to (ids repeat across sources). */
    this.name = source.kind === "file" ? `file \`${basename(source.path)}\`` : `project \`${source.project}\``;
    this.current = null;
    this.error = "not loaded yet";
    this.timer = null;
  }

  /** Load once, then every `refreshSeconds`; a failed reload keeps the last good rules. */
  start() {
    const loaded = this.load();
    if (this.source.refreshSeconds > 0) {
      this.timer = setInterval(() => this.load(), this.source.refreshSeconds * 1000);
      this.timer.unref();
    }
    return loaded;
  }

  async load() {
    try {
      const rules = this.source.kind === "file" ? await readRules(this.source) : await fetchRules(this.source);
      const next = RuleSet.compile(rules);
      const previous = this.current;
      this.current = next;
      this.error = null;
      previous?.free();
      this.logger.info({ count: next.length, from: this.label }, "pkgprotect: @{count} protection rules from @{from}");
    } catch (error) {
      // `rules[2].id` when the list was fetched; a file's errors name the line and column instead.
      const field = error.field?.startsWith("rules[") ? ` (${error.field})` : "";
      const message = `${error.message}${field}`;
      if (this.current === null) this.error = message;
      this.logger.warn(
        { from: this.label, message, kept: this.current !== null },
        "pkgprotect: loading rules from @{from} failed: @{message} (kept the previous rules: @{kept})",
      );
    }
  }

  stop() {
    clearInterval(this.timer);
    this.current?.free();
    this.current = null;
  }
}
