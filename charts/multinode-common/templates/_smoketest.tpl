{{/*
`helm test` smoke check: a pod that asks the leader Service for /v1/models, checks that the served
model is listed, and sends one short chat completion with it. Any failure ends the pod non-zero and
prints the response body, which `helm test --logs` shows. Argo CD does not run Helm test hooks; the
Skip hook annotation keeps it from applying the pod as an ordinary resource on every sync.
Takes (dict "root" $ "model" <served model name; empty: the first model the server lists>).
*/}}

{{- define "mnc.smokeTestScript" -}}
import json
import os
import sys
import urllib.error
import urllib.request

base = os.environ["SMOKE_BASE_URL"]
timeout = float(os.environ["SMOKE_TIMEOUT_SECONDS"])


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    except OSError as error:
        sys.exit("FAIL {} {}{}: {}".format(method, base, path, error))
    if status != 200:
        sys.exit("FAIL {} {}: HTTP {}: {}".format(method, path, status, text))
    try:
        return json.loads(text)
    except ValueError:
        sys.exit("FAIL {} {}: the body is not JSON: {}".format(method, path, text))


listed = call("GET", "/v1/models")
ids = [entry.get("id") for entry in listed.get("data", []) if isinstance(entry, dict)]
model = os.environ.get("SMOKE_MODEL") or (ids[0] if ids else "")
if not model or model not in ids:
    sys.exit("FAIL GET /v1/models: model {!r} is not served; the server lists {}: {}".format(
        model, ids, json.dumps(listed)))
print("ok: /v1/models lists {}".format(model))
answer = call("POST", "/v1/chat/completions", {
    "model": model,
    "messages": [{"role": "user", "content": os.environ["SMOKE_PROMPT"]}],
    "max_tokens": int(os.environ["SMOKE_MAX_TOKENS"]),
})
choices = answer.get("choices") or [{}]
content = (choices[0].get("message") or {}).get("content")
if not content:
    sys.exit("FAIL POST /v1/chat/completions: no message content in the answer: {}".format(json.dumps(answer)))
print("ok: chat completion from {}: {!r}".format(model, content))
{{- end -}}

{{- define "mnc.smokeTest" -}}
{{- $root := .root -}}
{{- $t := $root.Values.smokeTest -}}
{{- if $t.enabled -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ printf "%s-smoke-test" (include "mnc.fullname" $root) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mnc.labels" $root | nindent 4 }}
    app.kubernetes.io/component: smoke-test
  annotations:
    helm.sh/hook: test
    # Keep the last run's pod (and its log) until the next `helm test` replaces it.
    helm.sh/hook-delete-policy: before-hook-creation
    argocd.argoproj.io/hook: Skip
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  {{- include "mnc.imagePullSecrets" $root | nindent 2 }}
  securityContext:
    runAsNonRoot: true
    {{- if not ($root.Values.securityContext | default dict).openshift }}
    # The image's own user may be root; nobody is enough for two HTTP requests. OpenShift assigns one.
    runAsUser: 65534
    runAsGroup: 65534
    {{- end }}
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: smoke-test
      image: {{ include "mnc.registryImage" (dict "root" $root "image" (printf "%s:%s" $t.image.repository $t.image.tag)) | quote }}
      imagePullPolicy: IfNotPresent
      command:
        - python3
        - -c
        - {{ include "mnc.smokeTestScript" $root | quote }}
      env:
        - name: SMOKE_BASE_URL
          value: {{ printf "http://%s.%s.svc:%d" (include "mnc.fullname" $root) $root.Release.Namespace (int $root.Values.service.port) | quote }}
        - name: SMOKE_MODEL
          value: {{ .model | quote }}
        - name: SMOKE_PROMPT
          value: {{ $t.prompt | quote }}
        - name: SMOKE_MAX_TOKENS
          value: {{ $t.maxTokens | quote }}
        - name: SMOKE_TIMEOUT_SECONDS
          value: {{ $t.timeoutSeconds | quote }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop:
            - ALL
      resources:
        requests:
          cpu: 50m
          memory: 64Mi
        limits:
          cpu: 500m
          memory: 128Mi
{{- end -}}
{{- end -}}
