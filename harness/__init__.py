"""What the tests and the benchmarks share: child processes, hand-made PNGs, the load driver, memory cases, queueing."""
