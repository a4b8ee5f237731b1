"""The README's code blocks that promise to run (each follows an ``<!-- example: NAME -->``
line), for the tests that run them as they stand."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def example(name: str) -> str:
    """The Python code of the README's example ``name``."""
    text = README.read_text()
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)```", text, re.S)
    if found is None:
        raise AssertionError(f"the README has no example {name!r}")
    return found.group(1)
