"""The first screen of shipped scenarios' reports, as a reader sees it, at desktop
(1400 x 900) and phone (390 x 844) widths: ``docs/images/<scenario>-<width>.png``.

Run by ``make screenshots``; needs the system's Chromium (``apt-get install -y
chromium``), driven by Playwright.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from simulator import load_scenario, run
from simulator.report.writer import write_report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/lib/chromium/chromium"
SIZES = ((1400, 900), (390, 844))


def main(names: list[str]) -> None:
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name in names:
            result = run(load_scenario(ROOT / "scenarios" / f"{name}.toml"), paths=20_000)
            folder = write_report(result, Path(scratch) / name)
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto((folder / "index.html").as_uri())
                page.screenshot(path=str(out / f"{name}-{width}.png"))
                page.close()
                print(f"docs/images/{name}-{width}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:] or ["logistics", "portfolio"])
