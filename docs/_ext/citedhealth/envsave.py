"""The saved environment written beside the build, not in its way.

Contract: ``environment.pickle`` holds what Sphinx puts there, byte for byte:
the environment as it is after reading and before writing, its tables of
contents kept one blob a document (:class:`PackedTocs`, below; the same
trees when read). Only *when* the bytes are written changes. A build ends (``build-finished``, before any other
handler) only once the file is complete; if it could not be written, the
build fails and no saved environment is left, so the next build starts
afresh.

Why: Sphinx's ``Builder.build`` (sphinx/builders/__init__.py) pickles the
whole environment in the build's one process between reading and writing.
At 1000 articles that is 0.3 to 0.4 s of every incremental build, and of
every save in the live preview, during which nothing else happens.

How: Sphinx's ``sphinx.builders`` module refers to the standard ``pickle``
module by that name; it is given a stand-in that passes everything through,
except that dumping the environment into ``environment.pickle`` forks. The
child, a copy-on-write snapshot of the process at that very moment, pickles
the environment into a file beside the real one and renames it into place;
the parent goes straight on to writing pages (on another core). The child
inherits the build's locks (:mod:`.recovery`): if the parent is killed, the
next build waits for the child before it looks at the folder. Where ``fork``
is missing (not POSIX), or in a process that is not the build's (a ``-j``
worker), Sphinx's own in-place dump runs. This reaches into Sphinx's
internals (the module global); the upstream-contract table lists it.

Each document's table of contents (``env.tocs``, a tree of docutils nodes
per document: at 1000 articles a third of the file) is pickled as one blob
per document, and stays a blob after loading until something reads it
(:class:`PackedTocs`). A build that writes one article reads a few of them;
the others are written back as the bytes they came as, instead of being
rebuilt as nodes on every load and walked node by node on every save (at
1000 articles 0.09 s of every load and 0.14 s of every save). What is read
is the same: a blob is the pickle of that very tree, and a table read once
is kept as nodes (Sphinx numbers sections in it in place) and pickled anew.
The same holds for the pickle of the environment a parallel read's worker
sends back.
"""

from __future__ import annotations

import atexit
import os
import pickle
import sys
import traceback
import types
from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.application import ENV_PICKLE_FILENAME
from sphinx.environment import BuildEnvironment
from sphinx.errors import SphinxError

if TYPE_CHECKING:
    from sphinx.application import Sphinx


class EnvironmentNotSavedError(SphinxError):
    category = "The environment could not be saved"


#: (child pid, the file it writes, the process that forked it), while a save runs.
PENDING: list[tuple[int, Path, int]] = []
#: ``citedhealth_save_environment_aside`` of the build running in this process.
ENABLED = True
#: Whether ``build-finished`` waits for the save. The live preview's warm
#: worker (:mod:`citedhealth.preview.worker`) turns it off: it answers the
#: server as soon as the pages are written, and waits before its next build
#: and when it exits (no one reads its saved environment in between, except
#: a new worker after a crash, which finds the old file or the new one).
WAIT_AT_BUILD_FINISHED = True


class Packed:
    """A value kept as the bytes of its pickle (see :class:`PackedTocs`)."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob


class PackedTocs(dict):
    """``env.tocs`` whose values are unpickled when first read; pickled, each value is one blob.

    A ``dict`` (Sphinx's own type for it) whose every reading method hands
    out the value, never the blob: ``[]``, ``get``, ``pop``, ``setdefault``,
    ``values``, ``items``, ``popitem``, ``copy``, equality. Keys, ``in``,
    ``len`` and assignment are the dict's own."""

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if type(value) is Packed:
            value = pickle.loads(value.blob)
            dict.__setitem__(self, key, value)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key, *default):
        if key not in self:
            return dict.pop(self, key, *default)
        value = self[key]
        dict.__delitem__(self, key)
        return value

    def setdefault(self, key, default=None):
        if key not in self:
            dict.__setitem__(self, key, default)
        return self[key]

    def popitem(self):
        key = next(reversed(self.keys()))
        return key, self.pop(key)

    def values(self):
        return [self[key] for key in self]

    def items(self):
        return [(key, self[key]) for key in self]

    def copy(self):
        return dict(self.items())

    def __eq__(self, other):
        return isinstance(other, dict) and dict(self.items()) == dict(other.items())

    __hash__ = None

    def __repr__(self) -> str:
        return f"PackedTocs({dict(self.items())!r})"

    def __reduce__(self):
        blobs = {}
        for key, value in dict.items(self):
            blobs[key] = value.blob if type(value) is Packed else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        return restore_tocs, (blobs,)


def restore_tocs(blobs: dict) -> PackedTocs:
    tocs = PackedTocs()
    for key, blob in blobs.items():
        dict.__setitem__(tocs, key, Packed(blob))
    return tocs


def pack_tocs(env: BuildEnvironment) -> None:
    """From now on *env* keeps its tables of contents as :class:`PackedTocs` (nothing is unpickled or copied twice)."""
    if not isinstance(env.tocs, PackedTocs):
        tocs = PackedTocs()
        for key, value in env.tocs.items():
            dict.__setitem__(tocs, key, value)
        env.tocs = tocs


def save_in_child(env: BuildEnvironment, path: Path, protocol: int | None) -> None:
    """Fork; the child pickles *env* into *path* (through a temporary file) and exits."""
    wait_for_saves()  # at most one save at a time
    pid = os.fork()
    if pid == 0:  # the child: pickle, rename, leave without running any of the parent's exit code
        code = 1
        try:
            partial = path.with_name(f".{path.name}.partial")
            with open(partial, "wb") as stream:
                pickle.dump(env, stream, protocol)
            os.replace(partial, path)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    PENDING.append((pid, path, os.getpid()))


def wait_for_saves() -> None:
    """Wait for the saves this process started; fail if one could not write the file."""
    failed = []
    while PENDING:
        pid, path, parent = PENDING.pop()
        if parent != os.getpid():  # inherited by a forked worker: not its child
            continue
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            path.unlink(missing_ok=True)
            path.with_name(f".{path.name}.partial").unlink(missing_ok=True)
            failed.append(path)
    if failed:
        raise EnvironmentNotSavedError(
            f"pickling the environment into {failed[0]} failed (the traceback is above); the next build starts afresh"
        )


class DeferringPickle(types.ModuleType):
    """``pickle`` as ``sphinx.builders`` sees it: the environment's dump goes to a child process."""

    def __init__(self) -> None:
        super().__init__("pickle", pickle.__doc__)

    def __getattr__(self, name: str):
        return getattr(pickle, name)

    def dump(self, obj, file, protocol=None, **kwargs) -> None:
        name = getattr(file, "name", None)
        saving = isinstance(obj, BuildEnvironment) and isinstance(name, str) and Path(name).name == ENV_PICKLE_FILENAME
        if saving:
            pack_tocs(obj)
        if saving and not kwargs and hasattr(os, "fork") and ENABLED:
            file.flush()
            save_in_child(obj, Path(name), protocol)
            return
        pickle.dump(obj, file, protocol, **kwargs)


def install() -> None:
    """Give ``sphinx.builders`` the stand-in (once per process)."""
    builders = sys.modules["sphinx.builders"]
    if not isinstance(getattr(builders, "pickle", None), DeferringPickle):
        builders.pickle = DeferringPickle()


def configure(app: Sphinx, config) -> None:
    global ENABLED
    ENABLED = bool(config.citedhealth_save_environment_aside)
    install()


def finish(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished, before every other handler: the saved environment is complete."""
    if WAIT_AT_BUILD_FINISHED:
        wait_for_saves()


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_save_environment_aside", True, "", bool)
    app.connect("config-inited", configure)
    app.connect("build-finished", finish, priority=0)


# A process that ends some other way (an exception before build-finished) still waits.
atexit.register(lambda: PENDING and wait_for_saves())
