#!/usr/bin/env bash
# The `pkgprotect` CLI on the demo rules in examples/demo (also the CLI smoke test).
#   PKGPROTECT_PROFILE=debug scripts/cli-demo.sh   # the debug build (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# shellcheck source=scripts/lib/cli-build.sh
source scripts/lib/cli-build.sh
build_cli
pp=$PKGPROTECT_CLI
demo=examples/demo
run() { printf '\n$ pkgprotect %s\n' "$*"; "$pp" "$@" || true; }

run lint "$demo/rules.json"
run check --rules "$demo/rules.json" --package-name @demo/core --package-type npm --action push --actor developer
run check --rules "$demo/rules.json" --package-name @demo/core --package-type npm --action push --actor maintainer
run check --rules "$demo/rules.json" --package-name My.Internal_Tool --package-type pypi --action push --actor developer
run check --rules "$demo/rules.json" --repository-path demo-group/demo-project/release/api --action delete --actor maintainer
run check --rules "$demo/rules.json" --package-name @demo/core --package-type npm --action delete --actor deploy_token
run validate --project-path demo-group/demo-project '{"repository_path_pattern": "other-group/app/*", "minimum_access_level_for_push": "maintainer"}'
run validate '{"package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_delete": "maintainer"}'
run preview --pattern '@demo/*' --package-type npm --names-file "$demo/names.txt" --matched-only
