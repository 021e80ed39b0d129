"""``python -m pkgprotect``: the contract and engine versions, or a conformance run.

    python -m pkgprotect version              # `contract 0.2.1, engine X.Y.Z`
    python -m pkgprotect conformance FILE     # failures, then `N passed, N failed`; exit 1 on failures
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pkgprotect", description="GitLab package protection rules.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version", help="print the contract's and the engine's versions")
    conformance = commands.add_parser("conformance", help="run a shared/conformance vector file")
    conformance.add_argument("file", help="a vector file such as shared/conformance/gitlab-vectors.json")
    args = parser.parse_args(argv)

    from . import PkgprotectError, engine_version, version

    try:
        if args.command == "version":
            print(f"contract {version()}, engine {engine_version()}")
            return 0
        from .conformance import run_file

        report = run_file(args.file)
    except OSError as error:
        print(f"error: cannot read vector file `{args.file}`: {error.strerror or error}", file=sys.stderr)
        return 1
    except PkgprotectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, TypeError) as error:
        shown = error if isinstance(error, json.JSONDecodeError) else f"missing or wrong field {error}"
        print(f"error: `{args.file}` is not a valid vector file: {shown}", file=sys.stderr)
        return 1
    print(report)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
