"""A build's process exits without collecting garbage it is about to hand back to the system.

Contract: when the Python process that ran Sphinx exits, the objects still
alive are frozen (``gc.freeze``) before the interpreter tears itself down, so
its final garbage collections do not walk them. Nothing is written or flushed
differently: files are closed by the code that wrote them, ``logging`` and the
standard streams flush after this runs, and objects without reference cycles
are still finalised as usual. In a long-lived process (the live preview) it
only acts at the very end.

Why: a finished build leaves a large graph of cyclic objects (docutils nodes
point to their parents; the environment holds every document's table of
contents and every citation). Tearing the interpreter down walks it: 0.14 s
after a one-article build and 0.38 s after a 200-article one, measured on the
2-core machine of issue 7, which is a third of the time an author waits for a
one-line edit to rebuild at 200 articles.
"""

from __future__ import annotations

import atexit
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def freeze_survivors() -> None:
    # atexit handlers run before the interpreter's final collections.
    gc.freeze()


def setup(app: Sphinx) -> None:
    # Once per process, however many Sphinx applications it makes (tests make many).
    atexit.unregister(freeze_survivors)
    atexit.register(freeze_survivors)
