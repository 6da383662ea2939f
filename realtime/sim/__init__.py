"""The bioreactor simulator, apart from the serving path.

- :mod:`.models`: the process models;
- :mod:`.sampling`: when each series is read and which readings are written
  (regular logging, or by exception with a deadband), and outages;
- :mod:`.tables`: create tables, backfill history, bulk-fill for benchmarks;
- :mod:`.live`: write rows in real time, with store-and-forward;
- :mod:`.demo`: the embedded PostgreSQL behind ``run-app --demo``;
- :mod:`.cli`: the ``run-simulator`` command (also ``python -m realtime.sim``).
"""
