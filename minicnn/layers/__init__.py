"""The lesson: every layer of a CNN written out by hand, forward and backward.

`conv` (Conv2D, and the naive and vectorised functions behind it), `pool` (max, average and
global pooling), `padding` (zero and circular), `linear` (Flatten, Linear, ReLU), `dropout`
(Dropout, the one layer that acts differently in training and evaluation), all on the small
`Layer` base class in `base`. The tuned versions that `impl="fast"` picks live apart, in
`minicnn/fast/`, so that these files read as the maths.
"""

from .base import Layer, ShapeError
from .conv import (
    Conv2D,
    conv2d_fast,
    conv2d_fast_backward,
    conv2d_naive,
    conv2d_naive_backward,
    conv2d_vectorised,
    conv2d_vectorised_backward,
)
from .dropout import Dropout
from .linear import Flatten, Linear, ReLU
from .pool import (
    AvgPool2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    MaxPool2D,
    avgpool2d_naive,
    avgpool2d_naive_backward,
    avgpool2d_vectorised,
    avgpool2d_vectorised_backward,
    maxpool2d_fast,
    maxpool2d_fast_backward,
    maxpool2d_naive,
    maxpool2d_naive_backward,
    maxpool2d_vectorised,
    maxpool2d_vectorised_backward,
)

__all__ = [
    "AvgPool2D",
    "Conv2D",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "Layer",
    "Linear",
    "MaxPool2D",
    "ReLU",
    "ShapeError",
    "avgpool2d_naive",
    "avgpool2d_naive_backward",
    "avgpool2d_vectorised",
    "avgpool2d_vectorised_backward",
    "conv2d_fast",
    "conv2d_fast_backward",
    "conv2d_naive",
    "conv2d_naive_backward",
    "conv2d_vectorised",
    "conv2d_vectorised_backward",
    "maxpool2d_fast",
    "maxpool2d_fast_backward",
    "maxpool2d_naive",
    "maxpool2d_naive_backward",
    "maxpool2d_vectorised",
    "maxpool2d_vectorised_backward",
]
