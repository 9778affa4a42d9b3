import sys

from splitbrain.harness.cli import main

sys.exit(main())
