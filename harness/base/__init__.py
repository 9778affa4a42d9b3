"""The bottom layer: records and types every other layer uses (ops and histories,
generators, protocols, errors, verdicts, values, the plugin registry, the run store)."""
