"""``python -m trackcore``: the ``trackcore`` command through an interpreter (where no script was installed, e.g.
a ``pip install --target`` folder on the lent GPU machine)."""

import sys

from trackcore.cli import main

if __name__ == "__main__":
    sys.exit(main())
