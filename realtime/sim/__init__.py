"""The bioreactor simulator, apart from the serving path.

- :mod:`.models`: the process models and their sampling;
- :mod:`.tables`: create tables, backfill history, bulk-fill for benchmarks;
- :mod:`.live`: write rows in real time, with store-and-forward;
- :mod:`.demo`: the embedded PostgreSQL behind ``run-app --demo``;
- :mod:`.cli`: the ``run-simulator`` command (also ``python -m realtime.sim``).
"""
