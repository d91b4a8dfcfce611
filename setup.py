"""The one build step pyproject.toml cannot express: the wheel carries the custom-resource schemas.

schemas/crds/ is their source (the README and the tests point there); `inference-charts check`
installed from a wheel has no checkout to read them from, so the build copies them into the package
as inference_charts/crds/ (paths.crd_schemas_dir reads that copy when there is no checkout). A copy
made at build time, not one kept in the tree: nothing to fall out of sync.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CRD_SOURCE = Path(__file__).resolve().parent / "schemas" / "crds"


class BuildWithSchemas(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install runs from the checkout, which reads schemas/crds itself
        schemas = sorted(CRD_SOURCE.glob("*.schema.json"))
        if not schemas:
            raise SystemExit(f"no custom-resource schemas in {CRD_SOURCE}: the wheel would not check them")
        target = Path(self.build_lib) / "inference_charts" / "crds"
        target.mkdir(parents=True, exist_ok=True)
        for schema in schemas:
            shutil.copyfile(schema, target / schema.name)


setup(cmdclass={"build_py": BuildWithSchemas})
