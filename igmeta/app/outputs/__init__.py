"""What an analysis is turned into: frames, figures, files, the report and scripts.

``tables`` (tidy frames for figures and result tables, from a bundle), ``exports``
(figures and tables for download) with ``safe_export`` (CSV/Excel without formula
injection), ``report_content`` rendered by ``report`` (HTML) and ``report_docx`` (Word),
``codegen`` (the R/Python script of the analysis), ``methods_text`` (the methods
paragraph) and ``presenter`` (the presenter-mode steps).
"""
