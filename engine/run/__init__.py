"""Running over many records: chunks and their ordered write-back (batch), processes (parallel), a Dask cluster (cluster)."""
