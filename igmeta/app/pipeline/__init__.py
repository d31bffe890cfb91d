"""One analysis = (study table, settings): ``run_analysis`` and what is computed around it.

``analysis`` (settings, ``run_analysis``, the bundle), ``conventions`` (the current analysis
under metafor, RevMan and R ``meta`` rules), ``published`` (the IG paper's numbers and the
settings that reproduce them), ``metareg`` (meta-regression on table columns) and
``coverage`` (which rows are left out, and why).
"""
