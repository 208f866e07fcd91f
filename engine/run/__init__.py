"""Running over many records: chunks and their ordered write-back (batch), processes (parallel), a Dask cluster
(cluster), the cohort of a report read by byte ranges on several processes (cohort)."""
