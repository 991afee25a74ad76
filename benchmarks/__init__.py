"""Scripts that measure modelzoo and write benchmarks/results/; see benchmarks/README.md."""
