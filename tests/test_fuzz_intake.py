"""Fuzzing intake: mutated JPEG, PNG, TIFF, WebP and BMP files either decode completely or are
refused with the project's own one-line error. Anything else (a crash, another exception type,
a wrongly shaped array) fails. ``bench/bench_fuzz_intake.py`` runs the long version."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_fuzzing import MUTATIONS, check_intake, mutate, seed_files

SEEDS = seed_files()

mutation_ops = st.lists(
    st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(min_value=0, max_value=2**32 - 1)),
    min_size=1,
    max_size=3,
)


def test_seed_files_are_all_accepted(tmp_path: Path) -> None:
    for name, data in SEEDS.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert check_intake(p) == "ok", name


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEEDS)), ops=mutation_ops)
def test_mutated_files_succeed_or_fail_cleanly(seed: str, ops: list[tuple[str, int]]) -> None:
    data = mutate(SEEDS[seed], ops)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"fuzz-{seed}"
        p.write_bytes(data)
        check_intake(p)


def test_each_mutation_changes_the_bytes() -> None:
    data = SEEDS["png-rgb"]
    for name in MUTATIONS:
        changed = [mutate(data, [(name, s)]) != data for s in range(20)]
        assert any(changed), name
