// The preview page: every answer comes from the pkgprotect bindings (./pkg, built by
// scripts/build-preview.sh); this file only reads the form and draws the results.

const $ = (id) => document.getElementById(id);
/** Matches drawn at most; the count always covers them all. */
const MAX_SHOWN = 1000;

let engine;
let names; // NameList: the names live in Wasm memory between previews and decisions
let nameArray = []; // the same names in JS, which the engine's answers point into by position

try {
  engine = await import("./pkg/pkgprotect_js.js");
  await engine.default();
} catch (error) {
  $("engine").textContent =
    "The WebAssembly engine could not be loaded (" + error.message + "). Build it with scripts/build-preview.sh.";
  $("engine").classList.add("errors");
  throw error;
}

const form = {
  kind: $("kind"),
  packageType: $("package-type"),
  pattern: $("pattern"),
  push: $("push-level"),
  del: $("delete-level"),
  projectPath: $("project-path"),
};

const isPackage = () => form.kind.value === "package";
/** What the rule protects: a package type, or container repositories. */
const targetKind = () => (isPackage() ? form.packageType.value : "container_repository");
const patternField = () => (isPackage() ? "package_name_pattern" : "repository_path_pattern");

/** The rule as a client would send it to GitLab's create API. */
function ruleParams() {
  const params = { [patternField()]: form.pattern.value };
  if (isPackage()) params.package_type = form.packageType.value;
  if (form.push.value) params.minimum_access_level_for_push = form.push.value;
  if (form.del.value) params.minimum_access_level_for_delete = form.del.value;
  return params;
}

function showValidation() {
  const box = $("pattern-errors");
  box.replaceChildren();
  form.pattern.removeAttribute("aria-invalid");
  if (form.pattern.value === "") return;
  const result = engine.validateRule(ruleParams(), {
    kind: form.kind.value,
    projectPath: form.projectPath.value.trim() || null,
  });
  if (result.valid) return;
  const intro = document.createElement("p");
  intro.textContent = `GitLab would refuse this rule (HTTP ${result.httpStatus}):`;
  const list = document.createElement("ul");
  for (const error of result.errors) {
    const item = document.createElement("li");
    item.textContent = error.message;
    item.dataset.field = error.field;
    list.append(item);
    if (error.field === patternField()) form.pattern.setAttribute("aria-invalid", "true");
  }
  box.append(intro, list);
}

/** `name` with the UTF-16 ranges in `flat` (start, end pairs) wrapped in <mark>. */
function highlighted(name, flat) {
  const item = document.createElement("li");
  let at = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const [start, end] = [flat[i], flat[i + 1]];
    if (start > at) item.append(name.slice(at, start));
    const mark = document.createElement("mark");
    mark.textContent = name.slice(start, end);
    item.append(mark);
    at = end;
  }
  if (at < name.length) item.append(name.slice(at));
  return item;
}

function showPreview() {
  const list = $("matches");
  const pattern = form.pattern.value;
  list.replaceChildren();
  $("match-errors").textContent = "";
  if (pattern === "") {
    $("match-count").textContent = "Type a pattern to see which names match.";
    $("preview-time").textContent = "";
    return;
  }
  const start = performance.now();
  const result = names.preview(pattern, { kind: targetKind() });
  const elapsed = performance.now() - start;
  const shown = Math.min(result.matched.length, MAX_SHOWN);
  const items = [];
  for (let i = 0; i < shown; i++) {
    const spans = result.spans.slice(result.span_offsets[i], result.span_offsets[i + 1]);
    items.push(highlighted(nameArray[result.matched[i]], spans));
  }
  list.append(...items);
  const total = names.length;
  $("match-count").textContent =
    `${result.matched.length} of ${total} ${total === 1 ? "name matches" : "names match"}` +
    (shown < result.matched.length ? ` (the first ${shown} are shown)` : "");
  $("preview-time").textContent = `Last preview: ${elapsed.toFixed(2)} ms for ${total} names.`;
  const failing = result.undecidable.length;
  if (failing > 0) {
    // `undecidable` means exactly this (contract 0.2): the pattern ends with a lone `\` that
    // matching reached, where PostgreSQL raises an error.
    $("match-errors").textContent =
      `GitLab's query would fail for ${failing} ${failing === 1 ? "name" : "names"}: pattern \`${pattern}\` ends with ` +
      'a lone `\\`: PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it';
  }
}

/** One name per line (`\n` or `\r\n`); empty lines are skipped, as a name file ends with a newline. */
function lines(text) {
  return text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line)).filter((line) => line !== "");
}

function loadNames(text) {
  names?.free();
  nameArray = lines(text);
  names = new engine.NameList(nameArray);
  $("names-count").textContent = `${names.length} names`;
  showPreview();
  showDecisions();
}

function actor() {
  const value = $("actor").value;
  return value === "deploy_token" ? { type: "deploy_token" } : { type: "user", access_level: value };
}

function request(name) {
  const common = { action: $("action").value, actor: actor() };
  return isPackage()
    ? { package_name: name, package_type: form.packageType.value, ...common }
    : { repository_path: name, ...common };
}

function showDecisions() {
  const body = $("blocked").tBodies[0];
  const errors = $("rules-errors");
  body.replaceChildren();
  errors.textContent = "";
  $("rules").removeAttribute("aria-invalid");
  $("lint").replaceChildren();
  let ruleSet;
  try {
    ruleSet = engine.compileRules(JSON.parse($("rules").value || "[]"));
  } catch (error) {
    errors.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
    $("rules").setAttribute("aria-invalid", "true");
    $("blocked-count").textContent = "";
    return;
  }
  try {
    // One verdict per name in one call; only the refusals are explained.
    const verdicts = names.decide(ruleSet, { kind: targetKind(), action: $("action").value, actor: actor() });
    const rows = [];
    verdicts.forEach((verdict, i) => {
      if (verdict === "allowed") return;
      const row = document.createElement("tr");
      let cells;
      try {
        const answer = ruleSet.explain(request(nameArray[i]));
        cells = [nameArray[i], answer.blocking_rule_ids.join(", "), answer.reason];
      } catch (error) {
        // A DecisionError: `unevaluable` where GitLab's own query fails, `internal` otherwise.
        const why = error.cause?.kind === "unevaluable" ? "GitLab's query fails" : "the engine cannot decide";
        cells = [nameArray[i], "—", `refused: ${why} (${error.message})`];
      }
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      rows.push(row);
    });
    body.append(...rows);
    $("blocked-count").textContent = `${rows.length} of ${nameArray.length} names blocked for this actor and action.`;
    const findings = ruleSet.lint();
    for (const finding of findings) {
      const item = document.createElement("li");
      item.textContent = `Rules ${finding.rule_ids.join(", ")}: ${finding.message}`;
      $("lint").append(item);
    }
    if (findings.length === 0) {
      const item = document.createElement("li");
      item.textContent = "No advice: the rules look deliberate.";
      $("lint").append(item);
    }
  } finally {
    ruleSet.free();
  }
}

function addRule() {
  let rules;
  try {
    rules = JSON.parse($("rules").value || "[]");
  } catch {
    $("rules-errors").textContent = "Fix the rules' JSON first.";
    return;
  }
  const id = rules.reduce((max, rule) => Math.max(max, Number(rule.id) || 0), 0) + 1;
  const rule = { id, ...ruleParams() };
  rule.minimum_access_level_for_push ??= null;
  rule.minimum_access_level_for_delete ??= null;
  rules.push(rule);
  $("rules").value = JSON.stringify(rules, null, 2);
  showDecisions();
}

function onRuleChange() {
  form.packageType.disabled = !isPackage();
  $("pattern-label").textContent = isPackage() ? "Package name pattern" : "Repository path pattern";
  form.pattern.placeholder = isPackage() ? "@my-scope/pkg-*" : "my-group/my-project/release/*";
  showValidation();
  showPreview();
}

const debounce = (run, ms) => {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
};

/**
 * Served by `pkgprotect serve`, the page can show a project's stored rules: open it as
 * `/?project=group%2Fproject#token=…` (the token stays in the fragment, which browsers never
 * send to a server). Package and container rules number their ids separately, as in GitLab,
 * so container rules join only when no id repeats.
 */
async function projectRules() {
  const project = new URLSearchParams(location.search).get("project");
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!project || !token) return null;
  const base = `/api/v4/projects/${encodeURIComponent(project)}`;
  const get = async (path) => {
    const response = await fetch(base + path, { headers: { "PRIVATE-TOKEN": token } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  };
  const [packages, containers] = await Promise.all([
    get("/packages/protection/rules"),
    get("/registry/protection/repository/rules"),
  ]);
  const ids = new Set(packages.map((rule) => rule.id));
  const rules = containers.some((rule) => ids.has(rule.id)) ? packages : [...packages, ...containers];
  return JSON.stringify(rules, null, 2);
}

const [demoNames, demoRules, storedRules] = await Promise.all([
  fetch("names.txt").then((r) => r.text()),
  fetch("demo-rules.json").then((r) => r.text()),
  projectRules().catch((error) => {
    $("rules-errors").textContent = `Could not load the project's rules (${error.message}); showing the demo rules.`;
    return null;
  }),
]);
$("names").value = demoNames;
$("rules").value = storedRules ?? demoRules;

form.pattern.addEventListener("input", () => {
  showValidation();
  showPreview();
});
for (const control of [form.kind, form.packageType]) {
  control.addEventListener("change", () => {
    onRuleChange();
    showDecisions();
  });
}
for (const control of [form.push, form.del, form.projectPath]) control.addEventListener("input", showValidation);
$("rule-form").addEventListener("submit", (event) => event.preventDefault());
$("names").addEventListener("input", debounce(() => loadNames($("names").value), 150));
$("names-file").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) return;
  $("names").value = await file.text();
  loadNames($("names").value);
});
$("names-reset").addEventListener("click", () => {
  $("names").value = demoNames;
  loadNames(demoNames);
});
$("rules").addEventListener("input", debounce(showDecisions, 200));
$("add-rule").addEventListener("click", addRule);
$("actor").addEventListener("change", showDecisions);
$("action").addEventListener("change", showDecisions);

loadNames(demoNames);
onRuleChange();
$("engine").textContent = `Engine: pkgprotect ${engine.engineVersion()} (WebAssembly).`;
document.body.dataset.ready = "true";
