// The porcupine driver of benchmarks/bench_linearizable.py. It imports porcupine
// (github.com/anishathalye/porcupine, MIT; built and measured with v1.3.0 and Go 1.19),
// which the benchmark provides through a temporary go.work naming a checkout of it, so
// nothing is downloaded and nothing of porcupine is kept in this tree.
module splitbrain.invalid/porcupinedriver

go 1.19
