"""demos/equivariance.py, run with --quick (weight sharing: see test_demo_weight_sharing.py;
fuzzy features: test_demo_fuzzy_features.py).

Each test asserts the DIRECTION of every effect the demo claims, on the numbers it returns.
"""

import numpy as np
import pytest
from conftest import assert_figures

TINY = 1e-5          # "zero up to float32 rounding", relative


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
    assert equivariance["measured_band"] == r == 3           # measured band = receptive radius
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
    cos, _, err, D = equivariance["dense_geometry"]          # unrelated outputs: about sqrt 2
    assert abs(cos) < 3 / np.sqrt(D) and err > 1


def test_global_pooling_is_invariant_flatten_linear_is_not(equivariance):
    inv = equivariance["invariance"]
    assert inv["conv stack (circular) + GlobalAvgPool2D"] < TINY
    assert inv["Flatten + Linear(-> 10)"] > 0.1


def test_equivariance_figures(equivariance):
    assert_figures(equivariance)


def test_equivariance_sentences_follow_the_numbers():
    """The printed interpretation changes when the numbers do (no canned text)."""
    from conftest import load_demo
    demo = load_demo("equivariance")
    assert demo.verdict(0.0).startswith("exactly 0")
    assert demo.verdict(4e-8) == "zero up to float32 rounding"
    assert demo.verdict(0.1) == "a real error"

    def text(errs, band, geometry):
        rows = {"main": 0.0}
        return " ".join(demo.readings(rows, {"s2": errs}, {"s2": 2}, [1, 2, 3, 4],
                                      {"gap": 1e-8}, 3, band, geometry))
    good = text([0.4, 0.0, 0.4, 0.0], 3, (0.01, 1.0, 1.41, 1024))
    bad = text([0.4, 0.3, 0.0, 0.0], 5, (0.9, 1.0, 0.45, 1024))
    assert "as predicted" in good and "would be equivariant to [2, 4]" in bad
    assert "the same." in good and "more." in bad
    assert "no larger than for two unrelated" in good and "larger than unrelated" in bad
