"""demos/weight_sharing.py, run with --quick: the convolution is a dense matrix whose entries are
copies of the kernel's few weights, and the gradient of each weight sums over its copies."""

from conftest import assert_figures


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


def test_weight_sharing_sentences_follow_the_numbers():
    from conftest import load_demo
    same = load_demo("weight_sharing").same
    assert same(0.0, 5.0) == "identical"
    assert same(1e-14, 5.0) == "equal up to float64 rounding"
    assert same(1e-3, 5.0) == "DIFFERENT beyond rounding"
