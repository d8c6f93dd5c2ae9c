"""Measuring tools: what a layer or network does with a shifted input (`equivariance`), digits
placed at chosen positions on a canvas and scored as accuracy maps (`positions`), the corner
experiment as a protocol any model can be run through (`corner`), and whether a prediction
survives a move (`consistency`: Zhang's consistency, one-pixel fragility), and what a unit
looks at (`receptive_field`: theoretical and effective fields, top-activating patches)."""

from . import consistency, corner, equivariance, positions, receptive_field

__all__ = [
    "consistency",
    "corner",
    "equivariance",
    "positions",
    "receptive_field",
]
