"""The map page in words (issue 12): the top areas are named by ward and borough from the shipped
boundary files, and the table tells them apart (rank, expected incidents, share of the force's
total), where it used to read "r50c52" and "Pct. 100.0" for 13 of 15 rows.

The surface is the real one of tests/api/_fixtures (police.uk London 2022, 500 m cells)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np

from tests.api import _fixtures
from tests.api.conftest import bearer, browser_login
from vigil.app.area_names import describe_area
from vigil.geo.areas import assign_points, london_wards

HTML = {"Accept": "text/html"}


class _Table(HTMLParser):
    """The header and body cell texts of the table with ``id``."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth = table_id, 0
        self.head: list[str] = []
        self.rows: list[list[str]] = []
        self.attrs_of_rows: list[dict[str, str | None]] = []
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == self.table_id:
            self.depth = 1
        elif self.depth:
            if tag == "table":
                self.depth += 1
            elif tag == "thead":
                self._in_head = True
            elif tag == "tr" and not self._in_head:
                self.rows.append([])
                self.attrs_of_rows.append(a)
            elif tag in ("td", "th"):
                self._cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = re.sub(r"\s+", " ", "".join(self._cell)).strip()
            (self.head if self._in_head else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _table(html: str, table_id: str) -> _Table:
    t = _Table(table_id)
    t.feed(html)
    assert t.rows, f"no table #{table_id} on the page"
    return t


def test_hotspots_are_named_by_ward_and_borough(app_env, real_surface):
    app, _, _ = app_env
    page = browser_login(app, "analyst").get("/", headers=HTML).text
    table = _table(page, "hotspots")
    wards = london_wards(_fixtures.SHARED)
    assert len(table.rows) == 15
    for attrs, row in zip(table.attrs_of_rows, table.rows, strict=True):
        area = str(attrs["data-area"])
        r, c = re.fullmatch(r"r(\d+)c(\d+)", area).groups()  # type: ignore[union-attr]
        i = int(np.flatnonzero(real_surface.area_id == area)[0])
        # independently: the ward holding the cell's centre, and its borough
        inside = assign_points(real_surface.x[i : i + 1], real_surface.y[i : i + 1], wards)[0]
        ward = wards.loc[wards.area_id == inside].iloc[0]
        place = f"{ward['name']} ward, {ward['BOROUGH']}"
        assert any(place in cell and f"500 m cell {r}/{c}" in cell for cell in row), (place, row)
        assert not any(cell == area for cell in row), "the bare cell id is not a name"


def test_top_area_names_are_one_function_the_case_page_can_call(real_surface):
    # the highest cell of the fixture covers Buckingham Palace and St James's Park
    top = str(real_surface.area_id[real_surface.ranking()[0]])
    name = describe_area(real_surface, top, _fixtures.SHARED)
    assert name.place == "St. James's ward, Westminster"
    assert name.label.startswith("St. James's ward, Westminster — 500 m cell ")
    # no ward file (another city): the exact reference, never an invented place
    bare = describe_area(real_surface, top, None)
    assert bare.place is None and bare.label == name.reference


def test_hotspots_discriminate_by_rank_count_and_share(app_env, real_surface):
    app, _, _ = app_env
    page = browser_login(app, "analyst").get("/", headers=HTML).text
    table = _table(page, "hotspots")
    head = " | ".join(table.head)
    assert "Pct." not in head and "Percentile" not in head
    assert "Share of total" in head and "Expected incidents" in head
    total = float(np.sum(real_surface.risk))
    order = real_surface.ranking()[:15]
    shown = []
    for n, (row, i) in enumerate(zip(table.rows, order, strict=True), start=1):
        assert row[0] == str(n)
        expected = f"{real_surface.risk[i]:.2f}"
        share = f"{100 * real_surface.risk[i] / total:.2f}%"
        assert expected in row and share in row, (row, expected, share)
        shown.append((expected, share))
    # where 13 of 15 rows read "100.0", only areas with the same expected count look alike
    distinct = {round(float(real_surface.risk[i]), 6) for i in order}
    assert len(set(shown)) == len(distinct) > 10, shown


def test_top_areas_api_gives_the_name_and_share(app_env, client, tokens, real_surface):
    top = client.get("/api/forecasts/current/top?k=3", headers=bearer(tokens, "analyst")).json()
    total = float(np.sum(real_surface.risk))
    for a in top:
        name = describe_area(real_surface, a["area_id"], _fixtures.SHARED)
        assert a["label"] == name.label and a["place"] == name.place
        assert abs(a["share_of_city"] - a["risk"] / total) < 1e-12


def test_only_the_exceptional_is_dark(app_env, client, tokens, real_surface):
    # quintiles of the cells with any risk painted a fifth of London dark red; the darkest band
    # is now the highest 0.5 % of all cells, the next to 1 %, then 5 % and 20 %
    layer = client.get("/api/forecasts/current/geojson", headers=bearer(tokens, "analyst")).json()
    bands = np.array([f["properties"]["band"] for f in layer["features"]])
    risk_of = dict(zip(real_surface.area_id, real_surface.risk, strict=True))
    risks = np.array([risk_of[f["properties"]["area_id"]] for f in layer["features"]])
    n = len(real_surface)
    for band, share in ((0, 0.005), (1, 0.01), (2, 0.05), (3, 0.20)):
        assert 0 < np.count_nonzero(bands <= band) <= share * n, (band, share)
    # higher bands are higher counts, never the other way round
    for b in range(4):
        assert risks[bands == b].min() > risks[bands == b + 1].max() + 1e-9
    assert np.count_nonzero(bands == 0) / n < 0.2 / 10


def test_legend_says_what_each_colour_means(app_env, real_surface):
    app, _, _ = app_env
    page = browser_login(app, "analyst").get("/", headers=HTML).text
    legend = page[page.index('id="legend"') :]
    legend = legend[: legend.index("</ul>")]
    said = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li.*?</li>", legend, re.S)]
    assert said[0].startswith("The highest 0.5% of the area: more than ")
    assert said[1].startswith("The rest of the highest 1% of the area")
    assert said[4].startswith("Every other area where any incident is expected")
    assert "borough boundaries" in said[-1] and "the area you selected" in said[-1]
    # the count each band starts above is the surface's own
    ordered = np.sort(real_surface.risk)[::-1]
    assert f"more than {ordered[int(0.005 * len(ordered))]:.2f} expected" in said[0]


def test_ward_layer_names_every_london_ward(client, tokens):
    # the map's street-scale context: the 654 wards of london-boundaries-extra, named
    r = client.get("/api/areas/wards", headers=bearer(tokens, "analyst"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    wards = london_wards(_fixtures.SHARED)
    served = sorted((f["properties"]["name"], f["properties"]["borough"]) for f in features)
    assert served == sorted(zip(wards["name"], wards["BOROUGH"], strict=True))
