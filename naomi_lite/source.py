"""Showing the package's real source in the chapters, beside the equation it implements.

The chapters never re-define a package function: they import it, and where they explain it they
show its source as the package has it (the Annotated Transformer's way), so that what a student
reads is what runs. Taught from ``03_encoders.ipynb`` on.
"""
from __future__ import annotations

import inspect


def source(obj) -> str:
    """The source code of a function, class or method of the package, as it is on disk."""
    return inspect.getsource(obj)


def show_source(*objs) -> None:
    """Display the source of each object as a highlighted code block (plain text outside Jupyter)."""
    text = "\n\n".join(source(o).rstrip() for o in objs)
    try:
        from IPython.display import Markdown, display
    except ImportError:  # plain Python: just print it
        print(text)
        return
    display(Markdown(f"```python\n{text}\n```"))
