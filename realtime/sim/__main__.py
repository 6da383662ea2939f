import sys

from realtime.sim.cli import main

sys.exit(main())
