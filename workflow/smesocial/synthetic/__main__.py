"""`python -m smesocial.synthetic --params ... --out ...`: the generators' one CLI."""

import sys

from smesocial.synthetic.core import main

sys.exit(main())
