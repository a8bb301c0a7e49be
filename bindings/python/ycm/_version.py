"""The version of this package (the distribution ``yeastar-ycm``), always that of the
libycm it bundles: setup.py refuses to build with a library of another version, and the
loader refuses to load one (``tests/test_loader.py``)."""

__version__ = "0.1.0"
