"""Measuring tools: what a layer or network does with a shifted input (`equivariance`), and
digits placed at chosen positions on a canvas, scored as accuracy maps (`positions`)."""

from . import equivariance, positions

__all__ = [
    "equivariance",
    "positions",
]
