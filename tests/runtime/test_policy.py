"""Thread policy of the ONNX Runtime runner: parsing, pinning, two runners sharing cores, the stream default."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from edgebind.errors import ConfigError
from edgebind.runtime import open_runner
from edgebind.runtime.policy import ThreadPolicy, available_cpus, parse_cpus, parse_modality_cpus, pinned

needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(available_cpus()) < 2,
                                    reason="needs Linux CPU affinity and two CPUs")


def _imu(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 2, (n, 6, 2000)).astype(np.float32)


def test_parse_cpu_lists() -> None:
    assert parse_cpus("0") == (0,)
    assert parse_cpus("0, 2-4,2") == (0, 2, 3, 4)
    assert parse_modality_cpus(["imu=0", "thermal=1-2"]) == {"imu": (0,), "thermal": (1, 2)}
    with pytest.raises(ConfigError, match="cannot read CPU list 'a'; write ids and ranges like 0 or 0,1"):
        parse_cpus("a")
    with pytest.raises(ConfigError, match="--pin expects MODALITY=CPUS, got 'imu'"):
        parse_modality_cpus(["imu"])
    with pytest.raises(ConfigError, match=r"cannot pin to CPUs \[9999\]: this process may use"):
        ThreadPolicy(cpus=(9999,))
    with pytest.raises(ConfigError, match="threads must be >= 1, got 0"):
        ThreadPolicy(threads=0)
    assert ThreadPolicy(threads=1).describe() == "threads 1, no spin, cpus any"


@needs_affinity
def test_pinned_restores_the_callers_affinity() -> None:
    before = os.sched_getaffinity(0)
    cpu = min(before)
    with pinned((cpu,)):
        assert os.sched_getaffinity(0) == {cpu}
    assert os.sched_getaffinity(0) == before


def test_policy_runner_matches_onnxruntime_per_call_and_batch(tiny_bundle: Path) -> None:
    import onnxruntime as ort

    a, b = _imu(1, 1), _imu(3, 2)
    sess = ort.InferenceSession(str(Path(tiny_bundle) / "imu.onnx"), providers=["CPUExecutionProvider"])
    with open_runner(tiny_bundle, "imu", backend="onnxruntime", policy=ThreadPolicy(threads=1, spin=True)) as r:
        out_a, out_b = r.infer({"input": a})["embedding"], r.infer({"input": b})["embedding"]
        assert r.threads == 1 and r.describe()["policy"] == "threads 1, spin, cpus any"  # type: ignore[attr-defined]
    np.testing.assert_allclose(out_a, sess.run(None, {"input": a})[0], atol=1e-6)
    np.testing.assert_allclose(out_b, sess.run(None, {"input": b})[0], atol=1e-6)
    assert out_b.shape == (3, 1024) and out_b.dtype == np.float32


@needs_affinity
def test_pinned_runner_pins_its_calling_thread(tiny_bundle: Path) -> None:
    cpu = max(available_cpus())
    seen: dict[str, object] = {}

    def work() -> None:
        with open_runner(tiny_bundle, "imu", backend="onnxruntime",
                         policy=ThreadPolicy(threads=1, cpus=(cpu,))) as r:
            seen["before"] = os.sched_getaffinity(0)
            r.embed(_imu(1, 0))
            seen["after"] = os.sched_getaffinity(0)
            seen["describe"] = r.describe()["policy"]  # type: ignore[attr-defined]

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["before"] == available_cpus() and seen["after"] == {cpu}
    assert seen["describe"] == f"threads 1, no spin, cpus {cpu}"
    assert os.sched_getaffinity(0) == available_cpus()  # the test's own thread was left alone


def test_spin_and_pin_are_onnxruntime_settings(tiny_bundle: Path) -> None:
    with pytest.raises(ConfigError, match="spinning and CPU pinning are onnxruntime settings, but the imu runner is "
                                          "torch"):
        open_runner(tiny_bundle, "imu", backend="torch", policy=ThreadPolicy(spin=True))


def test_pair_of_runners_sharing_cores(tiny_bundle: Path) -> None:
    from edgebind.bench_pair import bench_pair, format_pairs, standard_policies

    policies = standard_policies(sorted(available_cpus())[:2] if len(available_cpus()) > 1 else [0, 0])
    chosen = {k: policies[k] for k in list(policies)[1:3]}  # no pinning: runs on any machine
    res = bench_pair(tiny_bundle, tiny_bundle, chosen, rounds=4, warmup=1, gap_s=0.0)
    assert [r.policy for r in res] == list(chosen)
    for r in res:
        assert r.rounds == 4
        # the pair is done when its slower member is: never before either of them
        assert r.pair_p50_ms >= max(r.imu_p50_ms, r.thermal_p50_ms) * 0.999
        assert 0 < r.imu_p50_ms <= r.imu_p99_ms and 0 < r.thermal_p50_ms <= r.thermal_p99_ms
    table = format_pairs(res)
    assert "both p99 vs first" in table and "1.00x" in table.splitlines()[1]
    with pytest.raises(ConfigError, match="policy 'x' sets \\['imu'\\]; give one ThreadPolicy for each"):
        bench_pair(tiny_bundle, tiny_bundle, {"x": {"imu": ThreadPolicy()}}, rounds=1)


def test_stream_runners_get_one_unpinned_thread_each_when_they_share_cores(tiny_bundle: Path) -> None:
    from edgebind.stream.encoders import open_encoders

    with open_encoders(bundle=tiny_bundle, allow_random_init=True) as enc:
        shown = enc.descriptions()
    assert set(shown) == {"imu", "thermal"}
    # not pinned: through a live stream pinning the runners apart did not beat this (docs/students.md)
    assert "on fp32 onnxruntime (threads 1, no spin, cpus any)" in shown["imu"]
    assert "on fp32 onnxruntime (threads 1, no spin, cpus any)" in shown["thermal"]
    cpu = min(available_cpus())
    with open_encoders(bundle=tiny_bundle, allow_random_init=True, threads=2,
                       policies={"imu": ThreadPolicy(spin=True), "thermal": ThreadPolicy(threads=2, cpus=(cpu,))}
                       ) as enc:
        shown = enc.descriptions()
    assert "(threads 1, spin, cpus any)" in shown["imu"]  # a policy without threads gets the shared-cores default
    assert f"(threads 2, no spin, cpus {cpu})" in shown["thermal"]  # given ones are kept
