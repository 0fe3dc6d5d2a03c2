"""The `malformed_after` fault: the write is applied, the answer is garbage."""

from __future__ import annotations

import json

import pytest


def test_malformed_after_applies_the_write_but_garbles_the_answer(sb, wp):
    rule = sb.world.faults.add("malformed_after", method="POST", path="/wp-json/wp/v2/posts", times=1)
    answer = wp.post("/wp/v2/posts", json={"title": "Garbled Answer", "status": "publish"})
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    found = wp.get("/wp/v2/posts", params={"search": "Garbled Answer"}).json()
    assert [p["title"]["rendered"] for p in found] == ["Garbled Answer"] and rule.hits == 1
