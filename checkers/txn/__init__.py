"""Transactional consistency: Adya's anomaly taxonomy, consistency models and dependency-graph cycle search."""
