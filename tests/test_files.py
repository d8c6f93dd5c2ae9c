"""minicnn.files: the atomic file writer under checkpoints and weights files, and the cache
folder."""

import os

import pytest

from minicnn import files


def test_atomic_write_writes_bytes_or_calls_the_writer(tmp_path):
    path = tmp_path / "f.bin"
    files.atomic_write(path, b"abc")
    assert path.read_bytes() == b"abc"
    files.atomic_write(str(path), lambda f: f.write(b"xyz"))
    assert path.read_bytes() == b"xyz"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_goes_through_a_hidden_temporary_file_in_the_same_folder(tmp_path,
                                                                            monkeypatch):
    moves = []
    real_replace = os.replace

    def spy(src, dst):
        moves.append((src, dst))
        real_replace(src, dst)
    monkeypatch.setattr(files.os, "replace", spy)
    files.atomic_write(tmp_path / "f.bin", b"abc")
    (src, dst), = moves
    assert os.path.dirname(src) == str(tmp_path) and dst == str(tmp_path / "f.bin")
    name = os.path.basename(src)
    assert name.startswith(".minicnn-") and name.endswith(".tmp")


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def fail(f):
        f.write(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_cache_dir_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert files.cache_dir("a", "b") == os.path.join(str(tmp_path), "minicnn", "a", "b")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert files.cache_dir() == os.path.join(str(tmp_path), "home", ".cache", "minicnn")
