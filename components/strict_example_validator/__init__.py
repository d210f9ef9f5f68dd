"""ExampleValidator that fails the run when the data carries schema anomalies."""
