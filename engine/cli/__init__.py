"""The ``engine`` command line: the only code that reads command-line arguments. ``main`` holds the parser table
and ``main()``; ``args`` the arguments several commands share; one module per command (``evaluate``, ``report``,
``check``, ``test``, ``graph``, ``diff``, ``docs``, ``schema``, ``explain``, ``expr``), each with ``run(args)``."""
