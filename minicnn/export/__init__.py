"""Export trained networks out of Python: `html` writes one self-contained web page that runs
them in the browser (its JavaScript forward pass sits beside it, in layers.js)."""

from .html import SUPPORTED, export_network, write_page

__all__ = ["SUPPORTED", "export_network", "write_page"]
