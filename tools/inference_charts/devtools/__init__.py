"""The project's own test, benchmark and CI tooling: nothing a user of the charts needs at run time.

matrix             the values matrix every test and benchmark runs over
bad_values         the corpus of invalid values each chart must refuse; bad_values_report its figures
ctlint             `ct lint`'s steps without ct (make ct-lint)
checkov_run        checkov over rendered manifests, in its own virtual environment
package            `make package`: the charts as .tgz with their dependencies
gitops             the helmfile and Argo CD examples as cases
bench, soak        `make bench` and `make soak`
podsim             pods on one Linux machine: the rendered containers run for real (tests/integration)
realengine         vLLM's CPU build served in podsim, and the tiny model it serves
"""
