{{/*
Helpers of the umbrella chart. The engine charts' objects are named by their own templates; these
helpers only repeat those names and effective settings for NOTES.txt, which Helm shows for the
umbrella chart alone (subchart notes need --render-subchart-notes).
*/}}

{{/* Engine charts this release installs, in a stable order. */}}
{{- define "mi.enabledEngines" -}}
{{- $enabled := list -}}
{{- range $name := list "vllm-multinode" "nim-multinode" -}}
{{- $v := index $.Values $name | default dict -}}
{{- if $v.enabled }}{{ $enabled = append $enabled $name }}{{ end -}}
{{- end -}}
{{- toYaml $enabled -}}
{{- end -}}

{{/*
The fully qualified name an engine chart gives its objects (the library's mnc.fullname, computed from
the engine's values as this chart sees them). Takes (dict "root" $ "chart" "vllm-multinode").
*/}}
{{- define "mi.engineFullname" -}}
{{- $v := index .root.Values .chart -}}
{{- if $v.fullnameOverride -}}
{{- $v.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .chart $v.nameOverride -}}
{{- if contains $name .root.Release.Name -}}
{{- .root.Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .root.Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
An engine's effective value of fabric.<key> or cache.<key>: the global one when set (it wins, as in the
library's mnc.applyGlobals), else the engine's own. Takes (dict "root" $ "chart" name "section" "fabric" "key" "profile").
*/}}
{{- define "mi.effective" -}}
{{- $global := index (.root.Values.global | default dict) .section | default dict -}}
{{- $own := index (index .root.Values .chart) .section | default dict -}}
{{- index $global .key | default (index $own .key) -}}
{{- end -}}
