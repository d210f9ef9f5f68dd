"""The local run: LocalDagRunner, the output layout, progress, abandoned runs, the summary."""
