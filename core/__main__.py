from neurospice.cli import main

raise SystemExit(main())
