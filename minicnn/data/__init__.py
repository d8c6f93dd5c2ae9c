"""Data: the bundled 8x8 digits (`digits`), MNIST-format IDX files (`idx`) and the augmentations
generated fresh for every batch (`augment`)."""

from . import augment
from .digits import load_digits, place_on_canvas
from .faces import load_faces
from .idx import download_mnist, load_idx, load_mnist

__all__ = [
    "augment",
    "download_mnist",
    "load_digits",
    "load_faces",
    "load_idx",
    "load_mnist",
    "place_on_canvas",
]
