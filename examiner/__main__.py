import sys

from examiner.cli import main

sys.exit(main())
