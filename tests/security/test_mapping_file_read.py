"""Issue 10: an analyst could make the server open any file through the upload's ``mapping``
parameter (it was handed to ``load_mapping``, which read the path and echoed lines back in its
error). A mapping is now chosen by name from the shipped set or from mappings uploaded as YAML
content (validated); a server path is never opened, and the answer does not say whether it
exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.api import _fixtures
from tests.api.conftest import app_env, bearer, client, real_surface, tokens  # noqa: F401

FILE = (
    _fixtures.SHARED / "city-of-london-2016-2017" / "2016-01" / "2016-01-city-of-london-street.csv"
)
SECRET = "VIGIL_PLANTED_SECRET=hunter2-do-not-echo"

_opened: list[str] = []


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if event == "open" and args and isinstance(args[0], str | Path):
        _opened.append(str(args[0]))


sys.addaudithook(_hook)


def _upload(client, tokens, mapping: str, data: bytes = b"a,b\n1,2\n"):  # noqa: F811
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/octet-stream"}
    return client.post(
        "/api/incidents/uploads",
        params={"filename": "x.csv", "dataset": "probe", "mapping": mapping},
        content=data,
        headers=h,
    )


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    secret = tmp_path / "secrets.yaml"
    secret.write_text(f"{SECRET}\nanother: line\n")
    return secret


def test_server_path_as_mapping_is_never_opened(client, tokens, planted, tmp_path):  # noqa: F811
    missing = tmp_path / "missing.yaml"
    probes = [str(planted), "/etc/passwd", "/proc/self/environ", str(missing), "../../etc/passwd"]
    answers = []
    for probe in probes:
        _opened.clear()
        r = _upload(client, tokens, probe)
        assert r.status_code == 400, r.text
        assert SECRET not in r.text and "root:" not in r.text
        assert not [p for p in _opened if p.endswith(Path(probe).name) and "vigil" not in p]
        # the answer names the probe as a mapping name, not as a file it looked at
        answers.append(r.json()["detail"].replace(repr(probe), "<P>").replace(probe, "<P>"))
    # existing and missing files answer alike: existence does not leak
    assert len(set(answers)) == 1, answers
    assert "shipped" in answers[0]


def test_uploaded_yaml_mapping_is_validated_and_usable_by_name(client, tokens):  # noqa: F811
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/yaml"}
    shipped = Path(__file__).parents[2] / "src/vigil/data/mappings/police-uk-street.yaml"
    text = shipped.read_text().replace("name: police-uk-street", "name: my-force-street")
    r = client.post("/api/incidents/mappings", content=text.encode(), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "my-force-street"
    listed = client.get("/api/incidents/mappings", headers=h).json()
    assert "my-force-street" in listed["uploaded"] and "police-uk-street" in listed["shipped"]
    r = _upload(client, tokens, "my-force-street", FILE.read_bytes())
    assert r.status_code == 202, r.text
    # a shipped name cannot be shadowed
    r = client.post("/api/incidents/mappings", content=shipped.read_bytes(), headers=h)
    assert r.status_code == 400 and "shipped" in r.json()["detail"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\n  bad: [", "not valid YAML"),
        ("name: x\ntime: {column: d, format: '%Y', precision: day}\n", "category"),
        (
            "name: ../../evil\ntime: {column: d, format: '%Y', precision: day}\n"
            "lon: a\nlat: b\ncategory: {value: robbery}\n",
            "name",
        ),
        (
            "name: evil\ntime: {column: d, format: '%Y', precision: day}\nlon: a\nlat: b\n"
            "category: {value: robbery}\nregion: {boundary: /etc/passwd}\n",
            "boundary",
        ),
    ],
)
def test_bad_uploaded_mapping_is_refused_with_the_reason(
    client,  # noqa: F811
    tokens,  # noqa: F811
    text,
    needle,
):
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/yaml"}
    _opened.clear()
    r = client.post("/api/incidents/mappings", content=text.encode(), headers=h)
    assert r.status_code == 400, r.text
    assert needle in r.json()["detail"]
    assert "/etc/passwd" not in _opened


def test_uploaded_mapping_size_is_capped(client, tokens):  # noqa: F811
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/yaml"}
    r = client.post("/api/incidents/mappings", content=b"#" * (1 << 20), headers=h)
    assert r.status_code in (400, 413) and "KiB" in r.json()["detail"]


def test_only_analysts_upload_mappings(client, tokens):  # noqa: F811
    h = {**bearer(tokens, "oversight"), "Content-Type": "application/yaml"}
    r = client.post("/api/incidents/mappings", content=b"name: x\n", headers=h)
    assert r.status_code == 403
