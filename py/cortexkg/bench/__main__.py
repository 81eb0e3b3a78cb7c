"""``python -m cortexkg.bench``: see :mod:`cortexkg.bench.runner`."""

from cortexkg.bench.runner import main

raise SystemExit(main())
