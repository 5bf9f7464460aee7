"""--shard I/N: deterministic, and the shards together cover every job exactly once (no bpy)."""

import pytest

from leanroute.batch.sharding import Shard
from leanroute.route.errors import SettingsError


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 20, 25])
@pytest.mark.parametrize("jobs", [0, 1, 5, 20, 101])
def test_the_shards_together_cover_every_job_exactly_once(count, jobs):
    items = [f"job-{k}" for k in range(jobs)]
    parts = [Shard(index, count).select(items) for index in range(1, count + 1)]
    seen = [item for part in parts for item in part]
    assert sorted(seen) == sorted(items)
    assert len(seen) == len(set(seen))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1  # balanced
    assert parts == [Shard(index, count).select(items) for index in range(1, count + 1)]


def test_parse_and_names():
    shard = Shard.parse(" 2/4 ")
    assert (shard.index, shard.count, str(shard)) == (2, 4, "2/4")
    assert shard.suffix() == "-shard-2-of-4"
    assert Shard().suffix() == "" and Shard().whole


@pytest.mark.parametrize(
    ("text", "why"),
    [("2", "is not I/N"), ("a/b", "is not I/N"), ("0/4", "I must be from 1 to 4"),
     ("5/4", "I must be from 1 to 4"), ("1/0", "1 or more")],
)  # fmt: skip
def test_bad_shards_are_refused(text, why):
    with pytest.raises(SettingsError, match=why):
        Shard.parse(text)
