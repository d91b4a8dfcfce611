{{/*
Guards for values that pass the values schema one by one but would give objects the API server refuses,
or give the engine a setting twice. Each message names the value to change. The rules are the API's
own, cited where they are applied; the values schema holds those a pattern can say (definitions in
schemas/values/common.schema.json).
*/}}

{{/*
Object names built from the release name. The API Service takes mnc.fullname, and a Service name must
be a DNS-1035 label: lower case, starting with a letter, at most 63 characters (kubernetes/kubernetes
v1.34.0 pkg/apis/core/validation/validation.go ValidateServiceName = apimachinery NameIsDNS1035Label;
kubernetes/apimachinery v0.34.0 pkg/util/validation/validation.go IsDNS1035Label). Helm accepts release
names that start with a digit or hold dots, which fail that rule.
*/}}
{{- define "mnc.validateNames" -}}
{{- $full := include "mnc.fullname" . -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $full) -}}
{{- if .Values.fullnameOverride -}}
{{- fail (printf "fullnameOverride: %q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter), which the Service name it becomes must be" $full) -}}
{{- else -}}
{{- fail (printf "fullnameOverride: the object names are built from the release name %q as %q, which is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter) as a Service name must be; set fullnameOverride (or nameOverride) to one, or choose another release name" .Release.Name $full) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
model.extraArgs may not set what the chart sets from its values: the engine keeps the last of two
values, while the GPU wait, the probes and every check read the chart's. The engine chart names its
flags in "<chart name>.ownedFlags" (YAML: flag -> the value that sets it). A flag is matched as the
engine's parser reads it: "--flag value" and "--flag=value", underscores as dashes in the name, and
any unambiguous prefix of a long flag (Python argparse allow_abbrev, on by default; vLLM's
FlexibleArgumentParser keeps it: vllm-project/vllm v0.12.0 vllm/utils/argparse_utils.py parse_args
turns '_' into '-' in a flag's name). A short flag ("-tp") is matched with any value glued to it.
*/}}
{{- define "mnc.validateExtraArgs" -}}
{{- $owned := include (printf "%s.ownedFlags" .Chart.Name) . | fromYaml -}}
{{- range $arg := .Values.model.extraArgs -}}
{{- $arg = toString $arg -}}
{{- if hasPrefix "--" $arg -}}
{{- $name := first (splitList "=" $arg) | replace "_" "-" -}}
{{- if gt (len $name) 2 -}}
{{- range $flag, $value := $owned -}}
{{- if and (hasPrefix "--" $flag) (hasPrefix $name $flag) -}}
{{- fail (printf "model.extraArgs: %q sets %s, which the chart sets itself from %s; change that value instead (the engine would keep the last of the two, and the chart's checks read the first)" $arg $flag $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- else if hasPrefix "-" $arg -}}
{{- range $flag, $value := $owned -}}
{{- if and (not (hasPrefix "--" $flag)) (hasPrefix $flag $arg) -}}
{{- fail (printf "model.extraArgs: %q sets %s, which the chart sets itself from %s; change that value instead (the engine would keep the last of the two, and the chart's checks read the first)" $arg $flag $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Checks the pod templates of the rendered workload (LeaderWorkerSet or Indexed Jobs), so that what the
chart's own templates add is counted however they change. Takes (dict "root" $ "text" <rendered YAML>).
*/}}
{{- define "mnc.validateWorkloadPods" -}}
{{- $root := .root -}}
{{- range $doc := splitList "\n---" .text -}}
{{- $obj := fromYaml $doc -}}
{{- $spec := $obj.spec | default dict -}}
{{- $lwt := $spec.leaderWorkerTemplate | default dict -}}
{{- $claims := list -}}
{{- range $lwt.volumeClaimTemplates -}}{{- $claims = append $claims .metadata.name -}}{{- end -}}
{{- range $template := list $lwt.leaderTemplate $lwt.workerTemplate $spec.template -}}
{{- if $template -}}
{{- include "mnc.validatePodSpec" (dict "root" $root "spec" ($template.spec | default dict) "claims" $claims "kind" $obj.kind) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
One pod spec: volume names unique, every extra mount backed by a volume, mount paths unique within a
container, and no environment variable given twice in a container. Volume names and mount paths are the
API's rules (kubernetes/kubernetes v1.34.0 pkg/apis/core/validation/validation.go ValidateVolumes:
"volume names must be unique"; validateVolumeMounts: a mount's volume must exist and its mountPath
"must be unique"). A variable given twice is not refused by the API, but the container sees the last
one while the chart's checks read the chart's own: extraEnv may only add variables.
*/}}
{{- define "mnc.validatePodSpec" -}}
{{- $v := .root.Values -}}
{{- $spec := .spec -}}
{{- $extraVolumes := list -}}
{{- range $v.extraVolumes -}}{{- $extraVolumes = append $extraVolumes .name -}}{{- end -}}
{{- $extraEnv := list -}}
{{- range $v.extraEnv -}}{{- $extraEnv = append $extraEnv .name -}}{{- end -}}
{{- $volumes := list -}}
{{- range $spec.volumes -}}
{{- if has .name $volumes -}}
{{- if has .name $extraVolumes -}}
{{- fail (printf "extraVolumes: the volume name %q is taken twice in the %s's pods (by the chart's own volumes or another extraVolumes entry); volume names must be unique in a pod; choose another name" .name $.kind) -}}
{{- end -}}
{{- fail (printf "the %s's pods have two volumes named %q; volume names must be unique in a pod" $.kind .name) -}}
{{- end -}}
{{- $volumes = append $volumes .name -}}
{{- end -}}
{{- $available := concat $volumes .claims -}}
{{- $mountSources := include "mnc.mountSources" .root | fromYaml -}}
{{- range $c := concat ($spec.initContainers | default list) ($spec.containers | default list) -}}
{{- $paths := list -}}
{{- range $c.volumeMounts -}}
{{- if not (has .name $available) -}}
{{- fail (printf "extraVolumeMounts: %q mounts the volume %q, which the pod does not have; add it to extraVolumes" .mountPath .name) -}}
{{- end -}}
{{- $path := clean .mountPath -}}
{{- if has $path $paths -}}
{{- $by := get $mountSources $path | default "the chart's own mounts" -}}
{{- fail (printf "%s: the mount path %s is used twice in the %s container (by %s); every mount path of a container must be unique; choose another path" (first (splitList " " $by)) $path $c.name (replace " " " and " $by)) -}}
{{- end -}}
{{- $paths = append $paths $path -}}
{{- end -}}
{{- $names := list -}}
{{- range $c.env -}}
{{- if has .name $names -}}
{{- if has .name $extraEnv -}}
{{- fail (printf "extraEnv: %s is set by the chart itself on the %s container (or given twice in extraEnv); set it through the chart's values, or leave it out of extraEnv" .name $c.name) -}}
{{- end -}}
{{- fail (printf "the %s container sets %s twice" $c.name .name) -}}
{{- end -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Which values put a mount at a path, as YAML: cleaned path -> "value, value" (the value the user can
change first), for the messages of "mnc.validatePodSpec".
*/}}
{{- define "mnc.mountSources" -}}
{{- $v := .Values -}}
{{- $by := dict -}}
{{- range $v.extraVolumeMounts -}}
{{- $p := clean .mountPath -}}
{{- $_ := set $by $p (trim (printf "extraVolumeMounts %s" (get $by $p))) -}}
{{- end -}}
{{- $s := $v.securityContext | default dict -}}
{{- if $s.readOnlyRootFilesystem -}}
{{- range $s.writableDirs -}}
{{- $p := clean . -}}
{{- $_ := set $by $p (trim (printf "%s securityContext.writableDirs" (get $by $p))) -}}
{{- end -}}
{{- end -}}
{{- $p := clean $v.cache.mountPath -}}
{{- $_ := set $by $p (trim (printf "%s cache.mountPath" (get $by $p))) -}}
{{- $_ := set $by "/dev/shm" (trim (printf "%s sharedMemory(/dev/shm)" (get $by "/dev/shm"))) -}}
{{- toYaml $by -}}
{{- end -}}
