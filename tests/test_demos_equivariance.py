"""The equivariance, weight-sharing and fuzzy-features demos, run with --quick.

Each test asserts the DIRECTION of every effect the demo claims, on the numbers it returns.
"""

import numpy as np
import pytest

TINY = 1e-5          # "zero up to float32 rounding", relative


def assert_figures(result):
    assert result["figures"]
    for path in result["figures"]:
        assert path.exists() and path.stat().st_size > 5_000, path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def equivariance(tmp_path_factory):
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "equivariance", "--quick")


def test_circular_padding_is_exactly_equivariant(equivariance):
    main = equivariance["main"]
    assert main["Sobel, circular padding"] < TINY
    assert main["conv stack, circular padding"] < TINY


def test_zero_padding_error_is_confined_to_the_borders(equivariance):
    main, r = equivariance["main"], equivariance["radius"]
    whole = main["conv stack, zero padding (whole image)"]
    inside = main[f"conv stack, zero padding (> {r} px from borders*)"]
    assert whole > 1e-3 and inside < TINY
    assert equivariance["error_pixels_outside_band"] == 0
    emap, safe = equivariance["error_map"], equivariance["border_free_mask"]
    assert emap[~safe].max() > 1e3 * max(emap[safe].max(), 1e-12)   # the band carries the error
    assert safe.any() and not safe.all()


def test_strides_are_equivariant_only_to_multiples_of_the_stride(equivariance):
    shifts = equivariance["shifts"]
    assert shifts == [1, 2, 3, 4]
    rows = equivariance["stride"]
    for name in ("Conv2D stride 2 (circular)", "conv stack + MaxPool2D(2)"):
        odd, even = [rows[name][0], rows[name][2]], [rows[name][1], rows[name][3]]
        assert max(even) < TINY and min(odd) > 1e-2, name
    two_pools = rows["conv stack with two 2x2 pools"]
    assert two_pools[3] < TINY and min(two_pools[:3]) > 1e-2
    dense = next(v for k, v in rows.items() if k.startswith("Flatten + Linear"))
    assert min(dense) > 0.5                                  # no shift structure at all


def test_global_pooling_is_invariant_flatten_linear_is_not(equivariance):
    inv = equivariance["invariance"]
    assert inv["conv stack (circular) + GlobalAvgPool2D"] < TINY
    assert inv["Flatten + Linear(-> 10)"] > 0.1


def test_equivariance_figures(equivariance):
    assert_figures(equivariance)


def test_weight_sharing(run_demo):
    r = run_demo("weight_sharing", "--quick")
    rows, cols = r["dense_shape"]
    assert r["output_max_abs_diff"] < 1e-10                 # dense matrix = conv (float64)
    assert r["grad_max_abs_diff"] < 1e-10 * max(1.0, r["grad_scale"])
    assert r["grad_scale"] > 0
    copies = r["copies_per_weight"]
    F = rows // cols                                         # output channels
    assert r["conv_params"] == copies.size + F == F * 9 + F
    assert r["fc_params"] == rows * cols + rows
    assert r["fc_params"] > 20 * r["conv_params"]
    assert r["nonzero_entries"] == copies.sum() < rows * cols   # mostly structural zeros
    assert copies.min() > 1                                  # every weight is reused
    assert_figures(r)


def test_fuzzy_features(run_demo):
    r = run_demo("fuzzy_features", "--quick")
    shifts, flat, pool = r["shifts"], r["heads"]["flatten"], r["heads"]["pooling"]
    for head in (flat, pool):
        for name in ("pool 1 (stride 2)", "pool 2 (stride 4)"):
            sim = np.array(head["similarity"][name])
            assert sim[0] == pytest.approx(1.0) and np.all(np.diff(sim) < 0), name
        assert head["unchanged"][0] == 1.0
    # Small shifts change the flatten head's predictions less than large ones do...
    assert flat["unchanged"][1] > flat["unchanged"][-1] + 0.3
    # ...and at the largest shift it breaks more than the pooling head, whose features barely move.
    assert flat["unchanged"][-1] < pool["unchanged"][-1] - 0.1
    assert (pool["similarity"]["head features"][-1]
            > flat["similarity"]["head features"][-1] + 0.2)
    assert flat["accuracy"][0] > 0.5 and len(shifts) == len(flat["accuracy"])
    assert_figures(r)
