"""The dashboard's services, built on the igmeta library (never imported by it).

The library (the modules at the top of ``igmeta/``) computes effect sizes, fits and
tests from arrays. This subpackage turns a study table and the dashboard's settings into
those calls and their results into files:

``intake``
    Reading uploads, pasted rows and RevMan files; the canonical columns; row checks.
``pipeline``
    One analysis = (table, settings): ``run_analysis``, the conventions of other tools,
    the published numbers, meta-regression on table columns, left-out rows.
``evidence``
    GRADE, numbers needed to treat and the hypothetical new trial.
``outputs``
    Tidy frames, figures and tables for download, the report, the R/Python script and
    the methods paragraph.
``store``
    Saved scenarios: the table codec, links and the SQLite/PostgreSQL store.

None of it imports Streamlit: the Streamlit code is in ``ui/`` and ``pages/``.
"""
