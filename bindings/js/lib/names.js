// Deterministic, realistic-looking package names for benchmarks (no randomness between runs).
const scopes = ["@acme", "@demo", "@internal", "@ui-kit", "@platform", "@data", "@tools", "@legacy"];
const stems = [
  "core", "utils", "cli", "api-client", "eslint-config", "logger", "auth", "router", "forms", "charts",
  "icons", "theme", "sdk", "parser", "cache", "queue", "metrics", "config", "testing", "build",
];
const suffixes = ["", "-plugin-react", "-plugin-vue", "-next", "-legacy", "-v2", "-server", "-browser", "-types", "-internal"];

/** `count` distinct names: scoped and unscoped npm names, in a fixed order. */
export function syntheticNames(count) {
  const names = [];
  for (let i = 0; names.length < count; i++) {
    const stem = stems[i % stems.length];
    const suffix = suffixes[Math.floor(i / stems.length) % suffixes.length];
    const round = Math.floor(i / (stems.length * suffixes.length));
    const scope = scopes[round % scopes.length];
    const serial = Math.floor(round / scopes.length);
    const base = `${stem}${suffix}${serial ? `-${serial}` : ""}`;
    names.push(i % 3 === 2 ? `${scope.slice(1)}-${base}` : `${scope}/${base}`);
  }
  return names;
}
