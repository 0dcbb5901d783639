"""``python -m citedhealth.preview``: see :mod:`citedhealth.preview.server`."""

from citedhealth.preview.server import main

if __name__ == "__main__":
    main()
