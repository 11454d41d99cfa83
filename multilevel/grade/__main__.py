"""``python -m multilevel.grade SUBMISSIONS --output OUT``: see :func:`multilevel.grade.main`."""

from multilevel.grade import main

raise SystemExit(main())
