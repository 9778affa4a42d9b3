import sys

from splitbrain.harness.front.cli import main

sys.exit(main())
