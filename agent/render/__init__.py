"""Renderers: pure functions from a report (or a diagnosis, or datums) to text for people and machines.

No I/O here: shells write what these return, sinks send metrics.
"""
