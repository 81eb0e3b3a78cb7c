"""Benchmark of the allocation engine against a port of the reference design.

Run ``python -m cortexkg.bench --help``. Not imported by :mod:`cortexkg` itself.
"""
