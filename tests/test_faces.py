"""load_faces: scikit-image's bundled faces, split by a seed, with optional mirror images."""

import socket

import numpy as np
import pytest

from minicnn import load_faces


@pytest.fixture(scope="module")
def split():
    return load_faces(rng=0)


def test_shapes_scale_and_labels(split):
    X_tr, y_tr, X_te, y_te = split
    assert X_tr.shape == (140, 1, 25, 25) and X_te.shape == (60, 1, 25, 25)
    assert X_tr.dtype == X_te.dtype == np.float32
    assert 0 <= X_tr.min() and X_tr.max() <= 1 and X_tr.max() > 0.9     # 0 black .. 1 white
    assert set(np.unique(y_tr)) == set(np.unique(y_te)) == {0, 1}
    assert y_tr.sum() == 70 and y_te.sum() == 30                         # stratified: half faces


def test_labels_follow_the_images():
    """1 = face: lfw_subset's first 100 images; its non-faces hold the pure-black regions."""
    from skimage.data import lfw_subset
    X, y, X_te, y_te = load_faces(test_size=2, rng=0)
    images = lfw_subset().astype(np.float32)                             # (200, 25, 25)
    rows = [np.abs(images - img[0]).sum(axis=(1, 2)).argmin() for img in np.concatenate([X, X_te])]
    assert np.array_equal(np.concatenate([y, y_te]), (np.array(rows) < 100).astype(int))
    black = (X[:, 0] == 0).mean(axis=(1, 2))
    assert black[y == 0].mean() > 20 * black[y == 1].mean()


def test_split_is_disjoint_complete_and_fixed_by_the_seed(split):
    X_tr, _, X_te, _ = split
    flat = np.concatenate([X_tr, X_te]).reshape(200, -1)
    assert len(np.unique(flat, axis=0)) == 200                           # every image once
    again = load_faces(rng=0)
    assert all(np.array_equal(a, b) for a, b in zip(split, again))
    other = load_faces(rng=1)
    assert not np.array_equal(other[2], X_te)


def test_mirror_doubles_training_only(split):
    X_tr, y_tr, X_te, _ = load_faces(mirror=True, rng=0)
    assert X_tr.shape == (280, 1, 25, 25) and np.array_equal(y_tr[:140], y_tr[140:])
    assert np.array_equal(X_tr[:140], split[0]) and np.array_equal(X_tr[140:], split[0][..., ::-1])
    assert np.array_equal(X_te, split[2]) and X_tr.flags["C_CONTIGUOUS"]


def test_no_network_needed(monkeypatch):
    """The patches ship inside scikit-image: loading them opens no socket."""
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")
    monkeypatch.setattr(socket, "socket", refuse)
    assert load_faces(rng=3)[0].shape == (140, 1, 25, 25)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"test_size": 61}, ValueError, "even int from 2 to 198"),
    ({"test_size": 200}, ValueError, "got 200"),
    ({"test_size": 0}, ValueError, "test_size must be an int >= 2"),
    ({"test_size": 0.3}, TypeError, "test_size must be an int"),
    ({"mirror": 1}, TypeError, "mirror must be True or False"),
    ({"rng": -1}, ValueError, "rng must be an int >= 0"),
    ({"rng": None}, TypeError, "rng must be an int"),
])
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error, match="load_faces") as info:
        load_faces(**kwargs)
    assert words in str(info.value)
