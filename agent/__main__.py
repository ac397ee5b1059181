"""`python -m agent` is the `vpc-verify` command."""

import sys

from agent.cli import main

sys.exit(main())
