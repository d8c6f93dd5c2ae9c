"""minicnn: a convolutional network in plain NumPy, written to be read.

Hand-written layers with forward and backward passes (no autograd), a naive loop version of
convolution and pooling beside the fast one, and the measuring tools that show what convolution
does with a shifted input: the feature maps shift with it (equivariance), while a flatten + fully
connected head reads every position separately.
"""

from .checkpoint import load_weights, save_weights
from .data import (
    augment,
    download_mnist,
    load_digits,
    load_faces,
    load_idx,
    load_mnist,
    place_on_canvas,
)
from .extensions import (
    BlurPool2D,
    CircularMaxPool2D,
    MaxBlurPool2D,
    P4GroupConv2D,
    P4LiftConv2D,
    P4RotationPool,
    PolyphaseDownsample2D,
)
from .gradcheck import check_layer, check_model, numerical_gradient, rel_error
from .layers import (
    AvgPool2D,
    Conv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Layer,
    Linear,
    MaxPool2D,
    ReLU,
    ShapeError,
    conv2d_fast,
    conv2d_fast_backward,
    conv2d_naive,
    conv2d_naive_backward,
    maxpool2d_fast,
    maxpool2d_fast_backward,
    maxpool2d_naive,
    maxpool2d_naive_backward,
)
from .losses import softmax, softmax_cross_entropy
from .measure import equivariance, positions
from .model import Sequential
from .optim import SGD, Adam
from .train import NonFiniteError, accuracy, evaluate, fit

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022 (grouped by topic, not sorted)
    # layers and model
    "Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "GlobalMaxPool2D",
    "Flatten", "Linear", "ReLU", "Dropout", "Sequential", "BlurPool2D", "MaxBlurPool2D",
    "P4LiftConv2D", "P4GroupConv2D", "P4RotationPool", "PolyphaseDownsample2D",
    "CircularMaxPool2D",
    # the naive and fast functions behind Conv2D and MaxPool2D
    "conv2d_naive", "conv2d_naive_backward", "conv2d_fast", "conv2d_fast_backward",
    "maxpool2d_naive", "maxpool2d_naive_backward", "maxpool2d_fast", "maxpool2d_fast_backward",
    # training
    "softmax", "softmax_cross_entropy", "SGD", "Adam", "fit", "evaluate", "accuracy",
    "save_weights", "load_weights", "check_layer", "check_model", "numerical_gradient",
    "rel_error", "ShapeError", "NonFiniteError",
    # data and measuring
    "load_digits", "load_faces", "place_on_canvas", "load_idx", "load_mnist", "download_mnist",
    "augment", "equivariance", "positions",
]
