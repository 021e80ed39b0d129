// The project's protection settings page. Every answer that decides, validates, previews or
// advises comes from the pkgprotect bindings (./pkg, built by scripts/build-preview.sh); every
// change goes through the server's REST API. This file only reads forms and draws answers.

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
/** Matches and blocked names drawn at most; the counts always cover them all. */
const MAX_SHOWN = 200;
/** sessionStorage keys: the token never leaves this tab's session (nor enters an address). */
const TOKEN_KEY = "pkgprotect.token";
const SERVER_KEY = "pkgprotect.server";
const PROJECT_KEY = "pkgprotect.project";

let engine;
try {
  engine = await import("./pkg/pkgprotect_js.js");
  await engine.default();
} catch (error) {
  $("engine").textContent =
    "The WebAssembly engine could not be loaded (" + error.message + "). Build it with scripts/build-preview.sh.";
  $("engine").classList.add("error");
  throw error;
}

/** The two rule kinds, as GitLab's REST API and settings page name them. */
const KINDS = {
  package: {
    path: "/packages/protection/rules",
    patternField: "package_name_pattern",
    patternLabel: "Name pattern",
    noun: "package protection rule",
    placeholder: "@my-scope/my-package-*",
  },
  container_repository: {
    path: "/registry/protection/repository/rules",
    patternField: "repository_path_pattern",
    patternLabel: "Repository path pattern",
    noun: "container repository protection rule",
    placeholder: "my-group/my-project/image-*",
  },
};
const PACKAGE_TYPES = [...$("target-kind").options].filter((o) => o.value !== "container_repository")
  .map((o) => [o.value, o.textContent.replace(/ (packages|charts|modules)$/, "")]);
const LEVELS = [["", "(none)"], ["maintainer", "Maintainer"], ["owner", "Owner"], ["admin", "Administrator"]];
const levelLabel = (level) => LEVELS.find(([value]) => value === (level ?? ""))?.[1] ?? level;
const typeLabel = (type) => PACKAGE_TYPES.find(([value]) => value === type)?.[1] ?? type;

const state = {
  server: "",
  token: null,
  project: null,
  /** The rules as the server last answered them, per kind; null when they could not be listed. */
  rules: { package: null, container_repository: null },
  canManage: false,
  /** The rule being written or edited: { kind, params, previous, editor }. */
  draft: null,
  names: null, // NameList: the names live in Wasm memory between previews and decisions
  nameArray: [],
};

// ---- the REST API ----------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, body, what) {
    super(describeFailure(status, body, what));
    this.status = status;
    this.body = body;
  }
}

/** An API answer as a person would want it explained. */
function describeFailure(status, body, what) {
  const detail = serverMessages(body).join(" ");
  switch (status) {
    case 0:
      return `The server at ${state.server} could not be reached (${what}). Is it running, and does it allow this page?`;
    case 400:
      return `The server refused the request (HTTP 400): ${detail}`;
    case 401:
      return "The server did not accept the token (HTTP 401): it may be mistyped, expired or revoked. Sign in again.";
    case 403:
      return "Your role in this project does not allow this (HTTP 403): managing protection rules needs at least the Maintainer role.";
    case 404:
      return what === "project"
        ? `There is no project “${state.project}”, or you are not a member of it (HTTP 404).`
        : `That rule no longer exists (HTTP 404): someone may have deleted it. The list has been reloaded.`;
    case 422:
      return `The server refused the rule (HTTP 422): ${detail}`;
    default:
      return `The server answered HTTP ${status}${detail ? `: ${detail}` : ""}.`;
  }
}

/** GitLab's error bodies: `{"message": "…"}`, `{"message": {"error": […]}}` or `{"error": "…"}`. */
function serverMessages(body) {
  if (!body || typeof body !== "object") return [];
  const flatten = (value) =>
    typeof value === "string" ? [value]
      : Array.isArray(value) ? value.flatMap(flatten)
      : value && typeof value === "object" ? Object.values(value).flatMap(flatten) : [];
  return flatten(body.message ?? body.error);
}

async function api(method, path, body, what = "rule") {
  let response;
  try {
    response = await fetch(state.server + path, {
      method,
      headers: { "PRIVATE-TOKEN": state.token, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (error) {
    throw new ApiFailure(0, null, error.message);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiFailure(response.status, data, what);
  return { status: response.status, data };
}

const projectPath = (kind, id) =>
  `/api/v4/projects/${encodeURIComponent(state.project)}${KINDS[kind].path}${id === undefined ? "" : `/${id}`}`;

// ---- sign in, project ------------------------------------------------------------------------

function showSessionMessage(text) {
  $("session-message").textContent = text;
}

function setToken(token) {
  state.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function signIn(event) {
  event.preventDefault();
  showSessionMessage("");
  const server = $("server").value.trim().replace(/\/+$/, "");
  state.server = server === location.origin ? "" : server;
  sessionStorage.setItem(SERVER_KEY, server);
  setToken($("token").value.trim());
  $("token").value = "";
  await startSession();
}

async function startSession() {
  try {
    const { data } = await api("GET", "/api/v4/user", null, "user");
    $("whoami").textContent = `Signed in to ${state.server || location.origin} as user ${data.id}` +
      (data.is_admin ? " (administrator)." : ".");
  } catch (error) {
    setToken(null);
    showSignedOut();
    showSessionMessage(error.message);
    $("token").focus();
    return;
  }
  $("signin-form").hidden = true;
  $("signed-in").hidden = false;
  $("session-heading").textContent = "Project";
  const project = sessionStorage.getItem(PROJECT_KEY);
  if (project) {
    $("project").value = project;
    await openProject();
  } else {
    $("project").focus();
  }
}

function showSignedOut() {
  $("signin-form").hidden = false;
  $("signed-in").hidden = true;
  $("settings").hidden = true;
  $("session-heading").textContent = "Sign in";
  state.project = null;
  state.rules = { package: null, container_repository: null };
  state.canManage = false;
  setDraft(null);
  showDecisions();
}

function signOut() {
  setToken(null);
  sessionStorage.removeItem(PROJECT_KEY);
  showSignedOut();
  showSessionMessage("Signed out: the token has been forgotten.");
  $("token").focus();
}

async function openProject(event) {
  event?.preventDefault();
  showSessionMessage("");
  state.project = $("project").value.trim();
  sessionStorage.setItem(PROJECT_KEY, state.project);
  rememberedNames();
  try {
    const [packages, containers] = await Promise.all(
      Object.keys(KINDS).map((kind) => api("GET", projectPath(kind), null, "project")),
    );
    state.rules = { package: packages.data, container_repository: containers.data };
    state.canManage = true;
    $("access-notice").hidden = true;
  } catch (error) {
    state.rules = { package: null, container_repository: null };
    state.canManage = false;
    if (error.status === 401) {
      setToken(null);
      showSignedOut();
      showSessionMessage(error.message);
      return;
    }
    if (error.status !== 403) {
      $("settings").hidden = true;
      showSessionMessage(error.message);
      showDecisions();
      return;
    }
    // GitLab shows protection settings to maintainers only; its REST API refuses anyone else
    // (403). The page says so and offers no edit controls: nothing here could succeed.
    $("access-notice").hidden = false;
    $("access-notice").textContent =
      `You are a member of ${state.project}, but your role may not see or manage its protection rules ` +
      "(the server answered HTTP 403): GitLab allows that from the Maintainer role up. The preview still works " +
      "for patterns you type.";
  }
  document.body.classList.toggle("read-only", !state.canManage);
  $("settings").hidden = false;
  for (const kind of Object.keys(KINDS)) closeAddForm(kind, false);
  drawAll();
}

async function reload(kind) {
  const { data } = await api("GET", projectPath(kind), null, "project");
  state.rules[kind] = data;
}

// ---- rule tables -----------------------------------------------------------------------------

function drawAll() {
  for (const kind of Object.keys(KINDS)) drawTable(kind);
  showLint();
  showDecisions();
}

const rowId = (kind, id) => `${kind}-rule-${id}`;

function drawTable(kind) {
  const rules = state.rules[kind];
  const table = $(`${kind}-table`);
  const body = table.tBodies[0];
  body.replaceChildren();
  table.hidden = rules === null;
  $(`${kind}-add`).hidden = !state.canManage;
  if (rules === null) {
    $(`${kind}-status`).textContent = "";
    return;
  }
  for (const rule of rules) body.append(ruleRow(kind, rule));
  $(`${kind}-status`).textContent = rules.length === 0
    ? "No protection rules yet."
    : `${rules.length} ${rules.length === 1 ? "rule" : "rules"}.`;
}

function ruleRow(kind, rule) {
  const pattern = rule[KINDS[kind].patternField];
  const row = el("tr", { id: rowId(kind, rule.id), tabIndex: -1 });
  row.dataset.ruleId = rule.id;
  row.append(el("td", {}, el("code", { textContent: pattern })));
  if (kind === "package") row.append(el("td", { textContent: typeLabel(rule.package_type) }));
  row.append(el("td", { textContent: levelLabel(rule.minimum_access_level_for_push) }));
  row.append(el("td", { textContent: levelLabel(rule.minimum_access_level_for_delete) }));
  if (state.canManage) {
    const edit = el("button", { type: "button", textContent: "Edit", className: "edit" });
    edit.setAttribute("aria-label", `Edit the rule for ${pattern}`);
    edit.addEventListener("click", () => editRow(kind, rule, row));
    const remove = el("button", { type: "button", textContent: "Delete", className: "delete danger" });
    remove.setAttribute("aria-label", `Delete the rule for ${pattern}`);
    remove.addEventListener("click", () => confirmDelete(kind, rule));
    row.append(el("td", { className: "actions" }, edit, " ", remove));
  }
  labelCells(row, $(`${kind}-table`));
  return row;
}

/** Each cell names its column (shown before it on narrow screens, where a row is a card). */
function labelCells(row, table) {
  const heads = table.tHead.rows[0].cells;
  [...row.cells].forEach((cell, i) => {
    if (!cell.classList.contains("actions")) cell.dataset.label = heads[i].textContent;
  });
}

// ---- rule editors: the add form and inline edit ----------------------------------------------

let editorCount = 0;

/**
 * The controls of one rule (GitLab's fields), each with a label and a place for its own
 * messages. `values` is a stored rule (edit) or GitLab's form defaults (add).
 */
function ruleFields(kind, values, { compact }) {
  const n = ++editorCount;
  const fields = {};
  const make = (name, label, control) => {
    control.id = `f${n}-${name}`;
    control.name = name;
    const errors = el("div", { id: `f${n}-${name}-errors`, className: "field-errors" });
    control.setAttribute("aria-describedby", errors.id);
    const labelEl = el("label", { htmlFor: control.id, textContent: label });
    if (compact) labelEl.className = "visually-hidden";
    fields[name] = { control, errors, wrapper: el("div", { className: "field" }, labelEl, control, errors) };
  };
  const select = (options, value) => {
    const s = el("select");
    for (const [v, text] of options) s.append(el("option", { value: v, textContent: text }));
    s.value = value ?? "";
    return s;
  };
  const { patternField, patternLabel, placeholder } = KINDS[kind];
  const pattern = el("input", { type: "text", spellcheck: false, autocomplete: "off", placeholder });
  pattern.value = values[patternField] ?? "";
  make(patternField, patternLabel, pattern);
  if (kind === "package") make("package_type", "Package type", select(PACKAGE_TYPES, values.package_type));
  make("minimum_access_level_for_push", "Minimum access level for push",
    select(LEVELS, values.minimum_access_level_for_push));
  make("minimum_access_level_for_delete", "Minimum access level for delete",
    select(LEVELS, values.minimum_access_level_for_delete));
  return fields;
}

/** What the fields hold, as a client sends it to GitLab: a create's parameters, or a PATCH's changes. */
function fieldParams(kind, fields, previous) {
  const params = {};
  for (const [name, { control }] of Object.entries(fields)) {
    const minimum = name.startsWith("minimum_access_level");
    const value = control.value === "" && minimum ? null : control.value;
    if (previous) {
      if (value !== (previous[name] ?? null)) params[name] = value;
    } else if (value !== null) {
      params[name] = value;
    }
  }
  return params;
}

/** The core's verdict on the fields, drawn beside each field; the whole verdict in `verdictBox`. */
function validateFields(kind, fields, previous, verdictBox) {
  const params = fieldParams(kind, fields, previous);
  const result = engine.validateRule(params, {
    kind,
    projectPath: state.project,
    existingRules: state.rules[kind] ?? [],
    previous: previous ?? null,
  });
  for (const { control, errors } of Object.values(fields)) {
    errors.replaceChildren();
    control.removeAttribute("aria-invalid");
  }
  const general = [];
  for (const error of result.errors) {
    const names = error.field.split(",").filter((name) => fields[name]);
    if (names.length === 0) general.push(error.message);
    for (const name of names) {
      fields[name].errors.append(el("p", { textContent: error.message }));
      fields[name].control.setAttribute("aria-invalid", "true");
    }
  }
  verdictBox.replaceChildren();
  verdictBox.classList.toggle("invalid", !result.valid);
  if (result.valid) {
    verdictBox.textContent = previous
      ? (Object.keys(params).length ? "GitLab would accept this change." : "Nothing changed yet.")
      : "GitLab would accept this rule (HTTP 201).";
  } else {
    verdictBox.append(el("p", { textContent: `GitLab would refuse this rule with HTTP ${result.httpStatus}.` }));
    for (const message of general) verdictBox.append(el("p", { textContent: message }));
  }
  return { params, result };
}

/** Wire an editor's fields to the live validation and the preview. */
function watchEditor(kind, fields, previous, verdictBox, editor) {
  const update = timed(() => {
    validateFields(kind, fields, previous, verdictBox);
    setDraft({ kind, fields, previous, editor }, { deferDecisions: true });
  });
  for (const { control } of Object.values(fields)) {
    control.addEventListener("input", update);
    control.addEventListener("focus", () => setDraft({ kind, fields, previous, editor }));
  }
  update();
}

function openAddForm(kind) {
  const form = $(`${kind}-form`);
  const fields = ruleFields(kind, { package_type: "npm", minimum_access_level_for_push: "maintainer" }, { compact: false });
  form.querySelector(".fields").replaceChildren(...Object.values(fields).map((f) => f.wrapper));
  $(`${kind}-form-message`).textContent = "";
  form.hidden = false;
  $(`${kind}-add`).setAttribute("aria-expanded", "true");
  form.onsubmit = (event) => {
    event.preventDefault();
    createRule(kind, fields);
  };
  watchEditor(kind, fields, null, $(`${kind}-form-verdict`), form);
  fields[KINDS[kind].patternField].control.focus();
}

function closeAddForm(kind, focus = true) {
  const form = $(`${kind}-form`);
  if (state.draft?.editor === form) setDraft(null);
  form.hidden = true;
  form.querySelector(".fields").replaceChildren();
  $(`${kind}-add`).setAttribute("aria-expanded", "false");
  if (focus) $(`${kind}-add`).focus();
}

async function createRule(kind, fields) {
  const message = $(`${kind}-form-message`);
  message.textContent = "";
  const params = fieldParams(kind, fields, null);
  try {
    const { data } = await api("POST", projectPath(kind), params);
    await reload(kind);
    closeAddForm(kind, false);
    drawAll();
    $(`${kind}-status`).textContent = `Rule for ${data[KINDS[kind].patternField]} created (HTTP 201).`;
    $(rowId(kind, data.id))?.focus();
  } catch (error) {
    await handleWriteFailure(kind, error, message);
  }
}

async function handleWriteFailure(kind, error, message) {
  if (error.status === 401) {
    setToken(null);
    showSignedOut();
    showSessionMessage(error.message);
    return;
  }
  message.textContent = error.message;
  if (error.status === 404) {
    await reload(kind).catch(() => {});
    drawTable(kind);
  }
}

function editRow(kind, rule, row) {
  const fields = ruleFields(kind, rule, { compact: true });
  const verdict = el("div", { className: "verdict" });
  verdict.setAttribute("aria-live", "polite");
  const message = el("div", { className: "message" });
  message.setAttribute("role", "alert");
  const save = el("button", { type: "submit", textContent: "Save changes" });
  const cancel = el("button", { type: "button", textContent: "Cancel" });
  const formId = `edit-${kind}-${rule.id}`;
  // A form cannot wrap table cells: the controls join it by their `form` attribute.
  const form = el("form", { id: formId, autocomplete: "off" });
  form.setAttribute("aria-label", `Edit the rule for ${rule[KINDS[kind].patternField]}`);
  for (const { control } of Object.values(fields)) control.setAttribute("form", formId);
  save.setAttribute("form", formId);
  cancel.setAttribute("form", formId);
  row.replaceChildren(...Object.values(fields).map((f) => el("td", {}, f.wrapper)));
  row.append(el("td", { className: "actions" }, form, save, " ", cancel, verdict, message));
  row.classList.add("editing");
  const close = () => {
    if (state.draft?.editor === row) setDraft(null);
    const fresh = ruleRow(kind, rule);
    row.replaceWith(fresh);
    fresh.querySelector(".edit").focus();
  };
  cancel.addEventListener("click", close);
  row.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const params = fieldParams(kind, fields, rule);
    if (Object.keys(params).length === 0) return close();
    try {
      const { data } = await api("PATCH", projectPath(kind, rule.id), params);
      await reload(kind);
      if (state.draft?.editor === row) setDraft(null);
      drawAll();
      $(`${kind}-status`).textContent = `Rule for ${data[KINDS[kind].patternField]} saved (HTTP 200).`;
      $(rowId(kind, rule.id))?.querySelector(".edit")?.focus();
    } catch (error) {
      await handleWriteFailure(kind, error, message);
    }
  });
  watchEditor(kind, fields, rule, verdict, row);
  fields[KINDS[kind].patternField].control.focus();
}

function confirmDelete(kind, rule) {
  const dialog = $("delete-dialog");
  const pattern = rule[KINDS[kind].patternField];
  $("delete-title").textContent = `Delete ${KINDS[kind].noun}?`;
  $("delete-text").textContent = kind === "package"
    ? `Users with at least the Developer role for this project will be able to publish, edit, and delete ` +
      `${typeLabel(rule.package_type)} packages matching ${pattern}.`
    : `Users with at least the Developer role for this project will be able to push and delete container ` +
      `images in repositories matching ${pattern}.`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "delete") {
      $(rowId(kind, rule.id))?.querySelector(".delete")?.focus();
      return;
    }
    try {
      await api("DELETE", projectPath(kind, rule.id));
      await reload(kind);
      drawAll();
      $(`${kind}-status`).textContent = `Rule for ${pattern} deleted (HTTP 204).`;
      $(`${kind}-add`).focus();
    } catch (error) {
      await handleWriteFailure(kind, error, $(`${kind}-status`));
    }
  };
  dialog.showModal();
}

// ---- the preview -----------------------------------------------------------------------------

/** The rule being written or edited drives the preview: its pattern and its target kind. */
function setDraft(draft, { deferDecisions = false } = {}) {
  state.draft = draft;
  if (draft) {
    const { kind, fields } = draft;
    $("pattern").value = fields[KINDS[kind].patternField].control.value;
    $("target-kind").value = kind === "package" ? fields.package_type.control.value : "container_repository";
    $("pattern-errors").replaceChildren();
    $("pattern").removeAttribute("aria-invalid");
  }
  showPreview();
  // Deciding every name for the draft rule waits for a pause in typing; the preview does not.
  if (deferDecisions) decideSoon();
  else showDecisions();
}

const debounce = (run, ms) => {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
};
const decideSoon = debounce(() => showDecisions(), 120);

const targetKind = () => $("target-kind").value;
const ruleKind = () => (targetKind() === "container_repository" ? "container_repository" : "package");

/** The preview's own pattern field: checked by the core as a rule of the chosen kind. */
function validatePreviewPattern() {
  const box = $("pattern-errors");
  box.replaceChildren();
  $("pattern").removeAttribute("aria-invalid");
  const pattern = $("pattern").value;
  if (pattern === "") return;
  const kind = ruleKind();
  const params = { [KINDS[kind].patternField]: pattern, minimum_access_level_for_push: "maintainer" };
  if (kind === "package") params.package_type = targetKind();
  const result = engine.validateRule(params, { kind, projectPath: state.project });
  if (result.valid) return;
  const list = el("ul");
  for (const error of result.errors) list.append(el("li", { textContent: error.message }));
  box.append(el("p", { textContent: `GitLab would refuse this pattern (HTTP ${result.httpStatus}):` }), list);
  $("pattern").setAttribute("aria-invalid", "true");
}

/** `name` with the UTF-16 ranges in `flat` (start, end pairs) wrapped in <mark>. */
function highlighted(name, flat) {
  const item = document.createElement("li");
  let at = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const start = flat[i];
    const end = flat[i + 1];
    if (start > at) item.append(name.slice(at, start));
    const mark = document.createElement("mark");
    mark.textContent = name.slice(start, end);
    item.append(mark);
    at = end;
  }
  if (at < name.length) item.append(name.slice(at));
  return item;
}

/**
 * Keystroke timings (ms): from the input event to the preview drawn (validation, the core's
 * preview, the DOM), kept for the page's own display and for tests.
 */
const timings = (window.pkgprotectTimings = []);
function timed(run) {
  return (...args) => {
    const start = performance.now();
    run(...args);
    const elapsed = performance.now() - start;
    timings.push(elapsed);
    $("preview-time").textContent = state.names
      ? `Last keystroke: ${elapsed.toFixed(2)} ms for ${state.names.length} names.` : "";
  };
}

function showPreview() {
  const list = $("matches");
  const pattern = $("pattern").value;
  list.replaceChildren();
  $("match-errors").textContent = "";
  if (pattern === "" || !state.names) {
    $("match-count").textContent = "Type a pattern to see which names match.";
    $("preview-time").textContent = "";
    return;
  }
  // Every name is matched and counted; only the names drawn have their spans traced.
  const result = state.names.previewFirst(pattern, { kind: targetKind(), limit: MAX_SHOWN });
  const shown = result.matched.length;
  const items = new Array(shown);
  for (let i = 0; i < shown; i++) {
    const spans = result.spans.slice(result.span_offsets[i], result.span_offsets[i + 1]);
    items[i] = highlighted(state.nameArray[result.matched[i]], spans);
  }
  list.append(...items);
  const total = state.names.length;
  $("match-count").textContent =
    `${result.matched_count} of ${total} ${total === 1 ? "name matches" : "names match"}` +
    (shown < result.matched_count ? ` (the first ${shown} are shown)` : "");
  const failing = result.undecidable.length;
  if (failing > 0) {
    // `undecidable` means exactly this (contract 0.2): the pattern ends with a lone `\` that
    // matching reached, where PostgreSQL raises an error.
    $("match-errors").textContent =
      `GitLab's query would fail for ${failing} ${failing === 1 ? "name" : "names"}: pattern \`${pattern}\` ends with ` +
      'a lone `\\`: PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches it';
  }
}

/** The project's rules of the kind the names are, with the rule being written if asked: GitLab's JSON. */
function rulesForDecisions() {
  const kind = ruleKind();
  const stored = state.rules[kind];
  if (stored === null) return null;
  const draft = state.draft;
  if (!$("with-draft").checked || !draft || draft.kind !== kind) return { rules: stored, draftId: null };
  let rule;
  try {
    const params = fieldParams(kind, draft.fields, draft.previous);
    rule = engine.parseRule(params, { kind, projectPath: state.project, previous: draft.previous ?? null });
  } catch {
    return { rules: stored, draftId: null }; // an invalid draft protects nothing yet
  }
  if (draft.previous) {
    rule.id = draft.previous.id;
    return { rules: stored.map((r) => (r.id === rule.id ? rule : r)), draftId: rule.id };
  }
  rule.id = stored.reduce((max, r) => Math.max(max, r.id), 0) + 1;
  return { rules: [...stored, rule], draftId: rule.id };
}

function actor() {
  const value = $("actor").value;
  return value === "deploy_token" ? { type: "deploy_token" } : { type: "user", access_level: value };
}

function showDecisions() {
  const body = $("blocked").tBodies[0];
  body.replaceChildren();
  const chosen = rulesForDecisions();
  $("blocked").hidden = chosen === null;
  if (chosen === null || !state.names) {
    $("blocked-count").textContent = state.canManage || !state.project
      ? "Open a project to see which names its rules block."
      : "The project's rules are not visible to your role, so no decisions can be previewed.";
    return;
  }
  const ruleSet = engine.compileRules(chosen.rules);
  try {
    // One verdict per name in one call; only the refusals drawn are explained.
    const kind = targetKind();
    const action = $("action").value;
    const verdicts = state.names.decide(ruleSet, { kind, action, actor: actor() });
    const rows = [];
    let blocked = 0;
    verdicts.forEach((verdict, i) => {
      if (verdict === "allowed") return;
      blocked++;
      if (rows.length >= MAX_SHOWN) return;
      const name = state.nameArray[i];
      const request = kind === "container_repository"
        ? { repository_path: name, action, actor: actor() }
        : { package_name: name, package_type: kind, action, actor: actor() };
      let cells;
      try {
        const answer = ruleSet.explain(request);
        const ids = answer.blocking_rule_ids.map((id) => ruleLink(ruleKind(), id, chosen.draftId));
        cells = [el("td", { textContent: name }), el("td", {}, ...joined(ids)), el("td", { textContent: answer.reason })];
      } catch (error) {
        // A DecisionError: `unevaluable` where GitLab's own query fails, `internal` otherwise.
        const why = error.cause?.kind === "unevaluable" ? "GitLab's query fails" : "the engine cannot decide";
        cells = [el("td", { textContent: name }), el("td", { textContent: "—" }),
          el("td", { textContent: `refused: ${why} (${error.message})` })];
      }
      const row = el("tr", {}, ...cells);
      labelCells(row, $("blocked"));
      rows.push(row);
    });
    body.append(...rows);
    $("blocked-count").textContent =
      `${blocked} of ${state.nameArray.length} names blocked for this actor and action` +
      (rows.length < blocked ? ` (the first ${rows.length} are shown).` : ".");
  } finally {
    ruleSet.free();
  }
}

function joined(nodes) {
  return nodes.flatMap((node, i) => (i === 0 ? [node] : [", ", node]));
}

/** A link to a rule's row (a stored rule), or its id (the rule being written). */
function ruleLink(kind, id, draftId) {
  if (id === draftId && !state.rules[kind].some((r) => r.id === id)) return el("span", { textContent: "the new rule" });
  const link = el("a", { href: `#${rowId(kind, id)}`, textContent: `${id}` });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const row = $(rowId(kind, id));
    row?.scrollIntoView({ block: "center" });
    row?.focus();
  });
  return link;
}

function showLint() {
  const list = $("lint");
  list.replaceChildren();
  let count = 0;
  for (const kind of Object.keys(KINDS)) {
    const stored = state.rules[kind];
    if (!stored) continue;
    const ruleSet = engine.compileRules(stored);
    try {
      for (const finding of ruleSet.lint()) {
        count++;
        const links = finding.rule_ids.map((id) => ruleLink(kind, id, null));
        const label = kind === "package" ? "Package" : "Container repository";
        const rules = finding.rule_ids.length === 1 ? "rule" : "rules";
        const item = el("li", {}, `${label} ${rules} `, ...joined(links), `: ${finding.message}`);
        item.dataset.kind = finding.kind;
        list.append(item);
      }
    } finally {
      ruleSet.free();
    }
  }
  if (count === 0) list.append(el("li", { textContent: "No advice: the rules look deliberate." }));
}

// ---- names -----------------------------------------------------------------------------------

/** One name per line (`\n` or `\r\n`); empty lines are skipped, as a name file ends with a newline. */
function lines(text) {
  return text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line)).filter((line) => line !== "");
}

function loadNames(text) {
  state.names?.free();
  state.nameArray = lines(text);
  state.names = new engine.NameList(state.nameArray);
  $("names-count").textContent = `${state.names.length} names`;
  $("preview-time").textContent = "";
  showPreview();
  showDecisions();
}

const namesKey = () => `pkgprotect.names.${state.server || location.origin}.${state.project}`;

/** The names remembered for the project (localStorage: names are not secrets), if any. */
function rememberedNames() {
  const saved = state.project ? localStorage.getItem(namesKey()) : null;
  if (saved !== null) {
    $("names").value = saved;
    loadNames(saved);
  }
}

function rememberNames() {
  if (!state.project) {
    $("names-count").textContent = `${state.names.length} names (open a project to remember them for it)`;
    return;
  }
  try {
    localStorage.setItem(namesKey(), $("names").value);
    $("names-count").textContent = `${state.names.length} names, remembered for ${state.project}`;
  } catch {
    $("names-count").textContent = `${state.names.length} names: too many for this browser to remember`;
  }
}


// ---- wiring ----------------------------------------------------------------------------------

const demoNames = await fetch("names.txt").then((r) => (r.ok ? r.text() : ""), () => "");
$("names").value = demoNames;
loadNames(demoNames);

$("signin-form").addEventListener("submit", signIn);
$("signout").addEventListener("click", signOut);
$("project-form").addEventListener("submit", openProject);
for (const kind of Object.keys(KINDS)) {
  $(`${kind}-add`).addEventListener("click", () => openAddForm(kind));
  $(`${kind}-form`).querySelector(".cancel").addEventListener("click", () => closeAddForm(kind));
  $(`${kind}-form`).addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeAddForm(kind);
  });
}
$("pattern").addEventListener("input", timed(() => {
  state.draft = null; // typed here, the pattern is the preview's own
  validatePreviewPattern();
  showPreview();
}));
$("target-kind").addEventListener("change", () => {
  validatePreviewPattern();
  showPreview();
  showDecisions();
});
for (const id of ["actor", "action", "with-draft"]) $(id).addEventListener("change", showDecisions);
$("names").addEventListener("input", debounce(() => loadNames($("names").value), 150));
$("names-file").addEventListener("change", async (event) => {
  const [file] = event.target.files;
  if (!file) return;
  $("names").value = await file.text();
  loadNames($("names").value);
});
$("names-remember").addEventListener("click", rememberNames);
$("names-reset").addEventListener("click", () => {
  $("names").value = demoNames;
  loadNames(demoNames);
});

$("server").value = sessionStorage.getItem(SERVER_KEY) ?? location.origin;
state.server = $("server").value === location.origin ? "" : $("server").value;
// An old link may still carry `#token=…`: drop it from the address without using it.
if (location.hash.includes("token=")) history.replaceState(null, "", location.pathname + location.search);
const projectParam = new URLSearchParams(location.search).get("project");
if (projectParam) {
  $("project").value = projectParam;
  sessionStorage.setItem(PROJECT_KEY, projectParam);
}
state.token = sessionStorage.getItem(TOKEN_KEY);
$("engine").textContent = `Engine: pkgprotect ${engine.engineVersion()} (WebAssembly).`;
if (state.token) await startSession();
document.body.dataset.ready = "true";
