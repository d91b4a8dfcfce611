"""What users run: the `inference-charts` command and what its subcommands print or write.

cli               the command line (render, check, preflight, plan, gen)
check             `check`: values files rendered and checked, exit codes, for people and for CI
check_report      what `check` found, as text, JUnit XML and JSON
summary           the short account of a rendered release that `render` prints
generate          `gen`: each chart's values.schema.json, values.yaml and README values table
schema_bundle     the values schema sources in schemas/values/ bundled into one schema per chart
values_doc        values.yaml and the values table, written from a bundled schema
preflight_export  `preflight`: the rendered NCCL preflight program and its settings, to run by hand

The sizing planner behind `plan` is a package of its own (planner/).
"""
