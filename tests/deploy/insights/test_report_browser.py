"""explain's report in a real headless Chromium (the OS package, driven by Playwright).

The page opens from disk, the map renders 168 labelled cells, hovering one shows its
neighbours, and the browser makes no network request at all.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deploy.insights.explainer import explain

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The id and label of the first map cell that is on top at its own centre (``preferred``
# first), else null.
TOPMOST_CELL = """preferred => {
  const cells = [...document.querySelectorAll('#map g[id^="cell-"]')];
  cells.sort((a, b) => (b.id === preferred) - (a.id === preferred));
  for (const g of cells) {
    const r = g.getBoundingClientRect();
    const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    if (top && g.contains(top)) return [g.id, g.querySelector('title').textContent];
  }
  return null;
}"""


@pytest.fixture(scope="module")
def report(model_dir, other_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    explain(
        model=model_dir, report_dir=str(out), compare_with=other_model.fn_args.serving_model_dir
    )
    return out


def test_report_files(report):
    for name in ("index.html", "embedding.svg", "embedding.png", "regimes.csv", "summary.json"):
        assert (report / name).stat().st_size > 0, name
    with open(report / "neighbours.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["cell", "label", "neighbour", "neighbour_label", "distance", "rank"]
    assert len(rows) == 168 * 5
    summary = json.loads((report / "summary.json").read_text())
    assert summary["model"]["city"] == "testville"
    # The page names the model by city and version up top (screenshots carry no machine
    # path); the folder is in the lineage table.
    html = (report / "index.html").read_text()
    top = html.split("<h2>", 1)[0]
    assert f"Model testville version {summary['model']['version']}" in top
    assert summary["model"]["model_dir"] not in top and summary["model"]["model_dir"] in html
    assert summary["comparison"]["with_city"] == "otherville"
    # Two cities trained apart: related, but not the same map.
    assert 0.0 < summary["comparison"]["cross_city_distance_spearman"] < 0.999
    assert summary["comparison"]["procrustes_disparity"] > 1e-6
    regimes = list(csv.DictReader(io.StringIO((report / "regimes.csv").read_text())))
    assert sum(int(r["cells"]) for r in regimes) == 168


def test_a_model_compared_with_itself_is_the_same_map(model_dir, tmp_path):
    comparison = explain(
        model=model_dir, report_dir=str(tmp_path), compare_with=model_dir
    ).comparison
    assert comparison.cross_city_distance_spearman == pytest.approx(1.0, abs=1e-9)
    assert comparison.procrustes_disparity == pytest.approx(0.0, abs=1e-9)
    assert comparison.mean_cell_shift == pytest.approx(0.0, abs=1e-6)


def test_report_renders_offline_in_chromium(report, tmp_path):
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run tests/system_packages.sh (make test does)")

    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(  # a fresh --user-data-dir
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 1600},
        )
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto((report / "index.html").as_uri(), wait_until="load")
        labels = page.eval_on_selector_all(
            '#map g[id^="cell-"]', "gs => gs.map(g => g.querySelector('title')?.textContent)"
        )
        # Cells of the same profile may lie on one spot (e.g. Tue and Thu 08:00): hover
        # the first cell the mouse can reach at its centre, Tuesday 08:00 if it can.
        cell_id, label = page.evaluate(TOPMOST_CELL, "cell-1-08")
        page.hover(f"#{cell_id}")
        hover_text = page.inner_text("#hover")
        page.locator("#map").screenshot(path=str(tmp_path / "map.png"))
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()

    assert len(labels) == 168 and len(set(labels)) == 168
    assert {"Mon 00:00", "Tue 08:00", "Sun 23:00"} <= set(labels)
    assert hover_text.startswith(f"{label} | regime: ") and "nearest: " in hover_text
    pixels = np.asarray(Image.open(tmp_path / "map.png").convert("RGB"), dtype=np.int32)
    ink = (pixels.sum(axis=-1) < 600).mean()  # share of clearly non-white pixels
    assert ink > 0.02, f"map looks blank ({ink:.1%} ink)"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # colours of 7 days, not one
    offline = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert requests and not offline, offline
