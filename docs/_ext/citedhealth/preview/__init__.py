"""The live preview behind ``make livehtml``: a warm Sphinx on sphinx-autobuild's server.

Not a Sphinx extension module: a command, ``python -m citedhealth.preview
SOURCEDIR OUTPUTDIR [options]`` with ``docs/_ext`` on ``PYTHONPATH``.
:mod:`.server` holds the contract (what is served when, errors, debounce);
:mod:`.publish` puts good builds in the served folder and holds requests
meanwhile; :mod:`.worker` is the process that keeps Sphinx warm.
"""
