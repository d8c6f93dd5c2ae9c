"""Measuring tools: what a layer or network does with a shifted input (`equivariance`), digits
placed at chosen positions on a canvas and scored as accuracy maps (`positions`), and the corner
experiment as a protocol any model can be run through (`corner`)."""

from . import corner, equivariance, positions

__all__ = [
    "corner",
    "equivariance",
    "positions",
]
