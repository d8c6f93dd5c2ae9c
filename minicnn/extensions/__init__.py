"""Layers from the research since: anti-aliased pooling (blurpool) and rotation-equivariant
group convolutions (gconv), built on the same `Layer` contract as the lesson's layers."""

from .blurpool import BlurPool2D, MaxBlurPool2D
from .gconv import P4GroupConv2D, P4LiftConv2D, P4RotationPool
from .polyphase import CircularMaxPool2D, PolyphaseDownsample2D

__all__ = [
    "BlurPool2D",
    "CircularMaxPool2D",
    "MaxBlurPool2D",
    "P4GroupConv2D",
    "P4LiftConv2D",
    "P4RotationPool",
    "PolyphaseDownsample2D",
]
