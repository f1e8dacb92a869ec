"""`python -m ventriloquist ...` is the `ventriloquist` command."""

import sys

from ventriloquist.device.cli import main

sys.exit(main())
