"""demos/augmentation.py on tiny settings (--quick).

Each test asserts the DIRECTION of an effect that the README claims about augmentation, on the
numbers the demo returns, and that the printed interpretation changes its words when the
numbers change.
"""

import copy

import numpy as np
import pytest
from conftest import assert_figures, load_demo, run_demo_once


@pytest.fixture(scope="module")
def augmentation(tmp_path_factory):
    return run_demo_once(tmp_path_factory, "augmentation", "--quick")


def test_flatten_head_reads_only_where_the_shifts_took_the_digits(augmentation):
    r0 = augmentation["results"][0]
    assert r0["in_reach"] > r0["beyond"] + 0.4
    assert r0["min"] < 0.15 and max(r0["min_at"]) > r0["reach"]      # worst point: unreached


def test_whole_canvas_shifts_lift_the_minimum_and_cost_in_the_trained_region(augmentation):
    shifts, res = augmentation["shifts"], augmentation["results"]
    r0, full = res[0], res[shifts[-1]]
    assert full["beyond"] is None                                       # every offset reached
    assert full["min"] > r0["min"] + 0.2 and full["far"] > r0["far"] + 0.2
    assert full["trained"] < r0["trained"] and full["train"] < r0["train"]
    text = " ".join(augmentation["interpretation"])
    assert "(lower)" in text and " cost " in text
    assert_figures(augmentation, ["augment_gallery.png", "augment_range.png"])


def test_augmentation_interpretation_follows_the_numbers(augmentation):
    demo = load_demo("augmentation")
    res = copy.deepcopy(augmentation["results"])
    r0, full = res[0], res[augmentation["shifts"][-1]]
    r0["beyond"], r0["in_reach"] = r0["in_reach"], r0["beyond"]
    full["trained"], full["train"] = r0["trained"] + 0.1, r0["train"] + 0.1

    class Args:
        epochs = 6
    text = " ".join(demo.interpret(res, Args, np.arange(100) % 10, 1000))
    assert "(not lower)" in text and " gain " in text and "learned less well" not in text


def test_gallery_notes_say_when_a_digit_is_cut_or_split():
    demo = load_demo("augmentation")
    x = np.zeros((2, 1, 16, 16), np.float32)
    x[:, 0, 4:12, 4:12] = 1.0                                          # two whole squares
    cut = x.copy()
    cut[0, 0, :, :8] = 0                                               # half of the ink lost
    cut[1] = np.roll(x[1], 8, axis=-1)                                 # split across the edge
    assert demo.ink_note(x, cut) == ["ink kept 50%", "split"]
    assert demo.ink_note(x, x) == ["", ""]


def test_augmentation_in_parallel_is_bit_identical_to_a_serial_run(augmentation, run_demo):
    """The fixture trained its shift ranges (0 and the whole canvas) in two worker processes."""
    serial = run_demo("augmentation", "--quick", "--shifts", "0", "--jobs", "1", "--no-figures")
    assert serial["results"][0] == augmentation["results"][0]     # every number of the row
