"""Sphinx configuration of the course website (``make book``; see scripts/build_book.py).

The site is built from the chapters that ``make course`` executed (``reports/NN_*.ipynb``),
with MyST-NB, which renders the stored outputs (``nb_execution_mode = "off"``: nothing is run
again). It must build and be read with no network:

* the theme is Sphinx's own ``alabaster`` (chapter list in the sidebar, search box), which
  ships in the Sphinx wheel and fetches nothing;
* equations are typeset by the local copy of MathJax 2.7 that build_book.py puts in
  ``_static/mathjax`` (from the jupyter-server-mathjax package, see scripts/offline_math.py);
* MyST-NB's widget renderer, which would load from a CDN, is switched off: a widget shows the
  text that the chapter stores for it, and the chapters draw a still picture beside each one.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_settings  # noqa: E402  (written by scripts/build_book.py: title, date, MathJax settings)

project = book_settings.PROJECT
author = "the NAOMI-lite developers"
copyright = book_settings.YEAR + ", " + author
extensions = ["myst_nb"]
exclude_patterns = ["_build", "book_settings.py", "**.ipynb_checkpoints"]
root_doc = "index"

# MyST-NB: render the executed notebooks as they are.
nb_execution_mode = "off"
nb_merge_streams = True
nb_execution_cache_path = str(Path(__file__).resolve().parent / ".jupyter_cache")  # not beside the reports
nb_ipywidgets_js = {}  # no widget JavaScript from a CDN
nb_mime_priority_overrides = [("*", "application/vnd.jupyter.widget-view+json", None)]  # show the text fallback
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_update_mathjax = False  # MyST would add MathJax 3 settings; build_book.py configures MathJax 2
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

# Equations: MathJax 2 from _static/mathjax (copied there at build time), never from the web.
mathjax_path = book_settings.MATHJAX_PATH
mathjax2_config = book_settings.MATHJAX2_CONFIG

html_theme = "alabaster"
html_title = project
html_static_path = ["_static"]
html_extra_path = book_settings.EXTRA_PATHS
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_theme_options = {"description": "A PyTorch teaching kit for NAOMI (Liu et al., NeurIPS 2019)",
                      "page_width": "1320px", "body_max_width": "1040px", "sidebar_width": "240px", "fixed_sidebar": True}
html_copy_source = False
html_show_sourcelink = False
