"""`python -m agent` is the `vpc-verify` command."""

import sys

from vpc_verify.cli import main

sys.exit(main())
