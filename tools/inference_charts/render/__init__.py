"""The renderer: a chart and its values in, Kubernetes objects out.

engine    Helm's Go template engine, embedded (helm-python-sdk) or an official Helm CLI
charts    where a chart comes from: this repository by name, a directory, a .tgz, an oci:// reference
cases     a case: one chart rendered as one release with one set of values, read from a values file
merging   the one merge of nested values the whole harness uses

Nothing here judges what it renders: that is checks/.
"""
