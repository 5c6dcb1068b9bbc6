"""Apache ECharts is vendored as a static file (issue 12: no CDN, the machines are offline):
fenxiao/static/vendor/echarts/ holds dist/echarts.min.js of the npm package with its LICENSE and
NOTICE, and a README naming the version, the source and the file's SHA-256
(`make vendor-echarts` writes all four)."""
import hashlib
import re
from pathlib import Path

from django.contrib.staticfiles import finders

FOLDER = Path(__file__).resolve().parent.parent / "fenxiao" / "static" / "vendor" / "echarts"


def test_the_vendored_file_is_the_one_the_readme_names():
    readme = (FOLDER / "README.md").read_text()
    version = re.search(r"^- version: (\S+)$", readme, re.M).group(1)
    sha = re.search(r"^- sha256 of echarts.min.js: ([0-9a-f]{64})$", readme, re.M).group(1)
    body = (FOLDER / "echarts.min.js").read_bytes()
    assert version == "6.1.0" and f"npm pack echarts@{version}" in readme
    assert hashlib.sha256(body).hexdigest() == sha
    assert f't.version="{version}"'.encode() in body          # the library says the same version
    assert "Apache License" in (FOLDER / "LICENSE").read_text() and "Apache ECharts" in (FOLDER / "NOTICE").read_text()


def test_it_is_served_as_a_static_file():
    found = finders.find("vendor/echarts/echarts.min.js")
    assert found is not None and Path(found).resolve() == (FOLDER / "echarts.min.js").resolve()


def test_no_template_loads_a_script_from_another_host():
    root = Path(__file__).resolve().parent.parent
    remote = re.compile(r"<script[^>]+src=[\"'](?:https?:)?//", re.I)
    offenders = [str(p.relative_to(root)) for p in root.glob("*/templates/**/*.html") if remote.search(p.read_text())]
    assert offenders == []
