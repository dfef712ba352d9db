import sys

from seisphase.cli import main

sys.exit(main())
