import math

import pytest

from msvdd.errors import ConfigError
from msvdd.run.groups import dev_groups, group_classes, table_groups


@pytest.mark.parametrize("size", [1, 2, 3, 4, 9])
def test_table_groups_sizes_sorted_distinct(size):
    groups = table_groups(10, size)
    assert len(groups) == min(10, math.comb(10, size))
    assert len(set(groups)) == len(groups)
    for g in groups:
        assert isinstance(g, tuple) and len(g) == size
        assert list(g) == sorted(set(g)) and all(0 <= c < 10 for c in g)
        assert all(type(c) is int for c in g)


def test_table_groups_deterministic_and_pinned():
    assert table_groups(10, 3, 10, 0) == table_groups(10, 3, 10, 0)
    assert table_groups(10, 3, seed=0) != table_groups(10, 3, seed=5)
    # Pinned: these are the groups every reported table uses. If this fails, numpy's generator
    # changed its stream and published group indices would silently name other classes.
    assert table_groups(10, 2)[:3] == [(0, 3), (4, 9), (0, 5)]
    assert table_groups(10, 3)[:2] == [(4, 5, 7), (2, 3, 7)]
    assert dev_groups(10, 2) == [(1, 2), (0, 1), (1, 6)]


def test_larger_count_extends_the_table():
    assert table_groups(10, 2, count=15)[:10] == table_groups(10, 2, count=10)


def test_count_above_number_of_combinations_takes_all():
    groups = table_groups(4, 2, count=100)
    assert sorted(groups) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


@pytest.mark.parametrize("size", [2, 3, 4])
def test_dev_groups_disjoint_from_table(size):
    dev = dev_groups(10, size)
    assert len(dev) == 3 and len(set(dev)) == 3
    assert not set(dev) & set(table_groups(10, size))
    assert dev == dev_groups(10, size)
    # disjoint from whatever table they are paired with
    assert not set(dev_groups(10, size, table_count=20, table_seed=7)) & set(table_groups(10, size, 20, 7))


def test_dev_groups_empty_when_table_takes_all():
    assert dev_groups(10, 1) == []


def test_group_classes_addresses_table_and_dev():
    assert group_classes(2, 0) == table_groups(10, 2)[0]
    assert group_classes(3, 9) == table_groups(10, 3)[9]
    assert group_classes(4, 2, split="dev") == dev_groups(10, 4)[2]
    assert group_classes(2, 1, n_classes=5, count=4, seed=3) == table_groups(5, 2, 4, 3)[1]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"size": 0, "index": 0}, "group.size"),
        ({"size": 10, "index": 0}, "group.size"),
        ({"size": 2, "index": 10}, "group.index"),
        ({"size": 2, "index": -1}, "group.index"),
        ({"size": 2, "index": 3, "split": "dev"}, "group.index"),
        ({"size": 1, "index": 0, "split": "dev"}, "group.index"),
        ({"size": 2, "index": 0, "split": "test"}, "group.split"),
        ({"size": 2, "index": 0, "count": 0}, "group.count"),
    ],
)
def test_group_classes_errors_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        group_classes(**kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(field + "=")
