"""The facts a case page reads from its frozen evidence are parsed once per snapshot digest."""

from __future__ import annotations

import json

from vigil.app import snapshot_facts as sf


def test_a_snapshot_is_parsed_once_per_digest_and_its_text_is_not_kept(monkeypatch) -> None:
    text = json.dumps(
        {
            "surface": {"start": "2022-07-01T00:00:00", "end": "2022-08-01T00:00:00"},
            "params": {"exceptional": {"found": True, "ratio": 3.0}},
        }
    )
    parsed = []
    real = sf._parse
    monkeypatch.setattr(sf, "_parse", lambda t: parsed.append(t) or real(t))
    monkeypatch.setattr(sf, "_FACTS", type(sf._FACTS)())
    first = sf.snapshot_facts(text, "d1")
    assert first.figure == {"found": True, "ratio": 3.0}
    assert first.period == ("2022-07-01T00:00:00", "2022-08-01T00:00:00")
    assert sf.snapshot_facts(text, "d1") is first and len(parsed) == 1
    assert list(sf._FACTS) == ["d1"] and text not in sf._FACTS
    # no evidence, and a snapshot without a period or figure
    assert sf.snapshot_facts(None, None) == sf.SnapshotFacts(None, None)
    assert sf.snapshot_facts("{}", "d2") == sf.SnapshotFacts(None, None)
