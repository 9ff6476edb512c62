"""JSON columns: values orjson refuses are still stored."""

from __future__ import annotations

import json

from kenkogo_master.store.db import json_text


def test_plain_values_are_compact_json() -> None:
    assert json_text({"a": [1, "二", None]}) == '{"a":[1,"二",null]}'


def test_integers_past_64_bits_and_number_keys_fall_back_to_the_json_module() -> None:
    assert json.loads(json_text({"n": 2**70})) == {"n": 2**70}
    assert json.loads(json_text({1: "one"})) == {"1": "one"}
