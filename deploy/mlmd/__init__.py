"""ML Metadata: opening a store (SQLite or MySQL), run and artifact queries, lineage."""
