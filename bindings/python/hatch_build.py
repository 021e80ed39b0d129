"""Ships the component in the wheel: copies `target/pkgprotect.wasm` (built by
`scripts/build-component.sh`) or `$PKGPROTECT_WASM` into `pkgprotect/pkgprotect.wasm`,
read once at build time so a later rebuild of the component does not change a wheel."""

import os
import shutil
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ComponentHook(BuildHookInterface):
    def initialize(self, version, build_data):
        default = Path(self.root).resolve().parents[1] / "target" / "pkgprotect.wasm"
        source = Path(os.environ.get("PKGPROTECT_WASM") or default)
        if not source.is_file():
            raise RuntimeError(
                f"component not found at `{source}`: run scripts/build-component.sh first (or set PKGPROTECT_WASM)"
            )
        self._copy_dir = tempfile.mkdtemp(prefix="pkgprotect-wheel-")
        copy = Path(self._copy_dir) / "pkgprotect.wasm"
        shutil.copyfile(source, copy)
        build_data["force_include"][str(copy)] = "pkgprotect/pkgprotect.wasm"

    def finalize(self, version, build_data, artifact_path):
        shutil.rmtree(self._copy_dir, ignore_errors=True)
