"""Render-and-check harness for the multinode inference Helm charts."""
