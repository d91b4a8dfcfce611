{{/*
Helm global values (.Values.global), which an umbrella chart (multinode-inference) sets once for every
engine chart it installs. global.imageRegistry and global.imagePullSecrets are read where images and
pull secrets are rendered (_podspec.tpl); the settings below are folded into the chart's own values by
"mnc.applyGlobals", so every helper that reads .Values.fabric, .Values.cache and so on sees them:

  global.fabric           each key set wins over the chart's fabric (a platform-wide network setting)
  global.cache            each key set wins over the chart's cache; mountPath and preload stay per chart
                          (each engine has its own cache layout and path)
  global.metrics          each key set wins over the chart's metrics; path stays per chart (/metrics for
                          vLLM, /v1/metrics for NIM)
  global.securityContext  fills the keys the chart leaves unset (null, false): a platform default
  global.podLabels        added to the chart's podLabels; the chart's own value of a key wins
  global.podAnnotations   added to the chart's podAnnotations; the chart's own value of a key wins

A value "set" in global is a non-empty one, at any depth: an empty string, false, 0, null or an empty
list or map leaves the chart's value alone. "mnc.applyGlobals" changes .Values in place and is
idempotent (applying it twice gives the result of applying it once), so every template can call it
first, in any order Helm renders them.
It renders nothing. Callers: the first line of "mnc.servingEnabled", "mnc.preflight" and "mnc.validate"
(the helpers each engine template calls first) and of each engine chart's NOTES.txt.
*/}}

{{/* A map without its empty values ("", false, 0, null, empty lists and maps), at every depth, as YAML. */}}
{{- define "mnc.nonEmpty" -}}
{{- $out := dict -}}
{{- range $key, $value := . -}}
{{- if kindIs "map" $value -}}
{{- $inner := include "mnc.nonEmpty" $value | fromYaml -}}
{{- if $inner }}{{ $_ := set $out $key $inner }}{{ end -}}
{{- else if $value -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "mnc.applyGlobals" -}}
{{- $v := .Values -}}
{{- $g := $v.global -}}
{{- if kindIs "map" $g -}}
{{- range $key := list "fabric" "cache" "metrics" -}}
{{- $over := index $g $key -}}
{{- if and (kindIs "map" $over) (kindIs "map" (index $v $key)) -}}
{{- $over = include "mnc.nonEmpty" (omit $over "mountPath" "preload" "path") | fromYaml -}}
{{- if $over -}}
{{- $_ := set $v $key (mergeOverwrite (deepCopy (index $v $key)) (deepCopy $over)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $key := list "securityContext" "podLabels" "podAnnotations" -}}
{{- $defaults := index $g $key -}}
{{- if and (kindIs "map" $defaults) $defaults -}}
{{- $own := index $v $key -}}
{{- if not (kindIs "map" $own) }}{{ $own = dict }}{{ end -}}
{{- $_ := set $v $key (merge (deepCopy $own) (deepCopy $defaults)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
