"""Dataset generators for the NAOMI teaching kit (we generate data instead of downloading it).

``data_gen.billiards``: the billiards trajectories of paper §4.1. Command line:
``python -m data_gen billiards --help``.
"""
