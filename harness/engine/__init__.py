"""The engine: the test spec, the assembly of parts from the plugin registry, the one
interpreter of a run (real threads or the simulator's virtual time) and ``check``."""
