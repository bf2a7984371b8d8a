"""The README's library example runs as written."""

from __future__ import annotations

import re

from .conftest import ROOT


def test_library_example_runs(monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README has no Python example"
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - our own example
    result = namespace["result"]
    assert 0 <= result.versus["self_hosted"].p_cheaper <= 1
    assert len(result.paths.totals["api"]) == 20_000
