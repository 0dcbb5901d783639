"""``python -m citedhealth.preview``: see :mod:`citedhealth.preview.server`."""

from citedhealth.preview.server import main

main()
