"""geogrid: divide communities into second-level grids and serve them."""

__version__ = "0.1.0"
