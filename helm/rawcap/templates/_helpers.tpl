{{/* _helpers.tpl - names, labels and the few computed values shared by the rawcap templates. */}}

{{/* Chart name, overridable. */}}
{{- define "rawcap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: <release>-<chart>, or the release name alone if it already contains the chart name. */}}
{{- define "rawcap.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart label value: name-version. */}}
{{- define "rawcap.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods; never change them after the first release. */}}
{{- define "rawcap.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rawcap.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "rawcap.labels" -}}
helm.sh/chart: {{ include "rawcap.chart" . }}
{{ include "rawcap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rawcap
{{- end -}}

{{/* ServiceAccount name. */}}
{{- define "rawcap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rawcap.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference; the tag defaults to the chart's appVersion. */}}
{{- define "rawcap.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Whether rawcap-forward starts paused: "true" or "false".
tap.capture.stopped=true pauses it; tap.capture.dissection.enabled is the newer,
inverse spelling. When both are set and disagree the render fails rather than guess.
*/}}
{{- define "rawcap.forwardPaused" -}}
{{- $stopped := .Values.tap.capture.stopped -}}
{{- $dissection := .Values.tap.capture.dissection.enabled -}}
{{- if kindIs "bool" $dissection -}}
{{- if and $stopped $dissection -}}
{{- fail "tap.capture.stopped=true contradicts tap.capture.dissection.enabled=true; set only one of them" -}}
{{- end -}}
{{- not $dissection -}}
{{- else -}}
{{- $stopped -}}
{{- end -}}
{{- end -}}

{{/*
A size with a Mi or Gi suffix, in MiB. The schema allows only these suffixes for
ringSize and shmOverhead, so the /dev/shm sizeLimit below is exact, not rounded.
*/}}
{{- define "rawcap.mebibytes" -}}
{{- $s := toString . -}}
{{- if hasSuffix "Gi" $s -}}
{{- mul (trimSuffix "Gi" $s | int64) 1024 -}}
{{- else if hasSuffix "Mi" $s -}}
{{- trimSuffix "Mi" $s | int64 -}}
{{- else -}}
{{- fail (printf "size %q must end in Mi or Gi" $s) -}}
{{- end -}}
{{- end -}}

{{/*
sizeLimit of the memory-backed /dev/shm emptyDir: the ring's data area plus the
allowance for its header, time index and interface table (ringSize + shmOverhead).
*/}}
{{- define "rawcap.shmSizeLimit" -}}
{{- $raw := .Values.tap.capture.raw -}}
{{- printf "%dMi" (add (include "rawcap.mebibytes" $raw.ringSize | int64) (include "rawcap.mebibytes" $raw.shmOverhead | int64)) -}}
{{- end -}}

{{/*
A Kubernetes memory quantity in whole MiB (rounded down): plain bytes, or an
integer with k, M, G, T, Ki, Mi, Gi or Ti. Empty for any other form (1.5Gi,
1e9), which the check below then leaves to the user.
*/}}
{{- define "rawcap.quantityMi" -}}
{{- $s := toString . -}}
{{- if regexMatch "^[0-9]+(k|M|G|T|Ki|Mi|Gi|Ti)?$" $s -}}
{{- $n := regexFind "^[0-9]+" $s | int64 -}}
{{- $u := trimPrefix (toString $n) $s -}}
{{- $bytes := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- div (mul $n (index $bytes $u)) 1048576 -}}
{{- end -}}
{{- end -}}

{{/*
capd's memory limit must hold the ring it is charged for: ringSize +
shmOverhead of shared-memory pages plus capd's own ~128Mi. Below that, capd
is OOM-killed once the ring has filled, and crash-loops.
*/}}
{{- define "rawcap.checkCapdMemory" -}}
{{- $raw := .Values.tap.capture.raw -}}
{{- $lim := index (.Values.capd.resources.limits | default dict) "memory" | default "" | toString -}}
{{- $have := include "rawcap.quantityMi" $lim -}}
{{- $need := add (include "rawcap.mebibytes" $raw.ringSize | int64) (include "rawcap.mebibytes" $raw.shmOverhead | int64) 128 -}}
{{- if and $have (lt ($have | int64) $need) -}}
{{- fail (printf "capd.resources.limits.memory %s is below tap.capture.raw.ringSize %s + shmOverhead %s + 128Mi for capd itself (%dMi): the ring's shared-memory pages are charged to capd, which would be OOM-killed once the ring fills; raise the limit or lower ringSize" $lim (toString $raw.ringSize) (toString $raw.shmOverhead) $need) -}}
{{- end -}}
{{- end -}}

{{/* Security context shared by every reader sidecar: non-root, nothing extra. */}}
{{- define "rawcap.readerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.security.readerUid }}
runAsGroup: {{ .Values.security.ringGid }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The dissection switch shared by rawcap-server (writes it) and rawcap-forward
(follows it): the control directory, and the initial state from the
ConfigMap as an env reference (its value never appears in the pod template).
*/}}
{{- define "rawcap.dissectionArgs" -}}
- --control-dir
- /var/run/rawcap/control
- --dissection
- $(RAWCAP_DISSECTION)
{{- end -}}

{{- define "rawcap.dissectionEnv" -}}
- name: RAWCAP_DISSECTION
  valueFrom:
    configMapKeyRef:
      name: {{ include "rawcap.fullname" . }}-dissection
      key: initial
{{- end -}}

{{/* Volume mounts every reader needs: the ring and, read-only, the disk FIFO history. */}}
{{- define "rawcap.readerMounts" -}}
- name: shm
  mountPath: /dev/shm
  readOnly: true
- name: fifo
  mountPath: /var/lib/rawcap/fifo
  readOnly: true
{{- end -}}

{{/*
The snapshotter's object storage environment (tap.snapshots.cloud): its
default remote, region and endpoint, and the web identity for IRSA; with
the checks the schema cannot express. Credentials never appear here: they
come from Secrets (rawcap.snapshotCloudEnvFrom).
*/}}
{{- define "rawcap.snapshotCloudEnv" -}}
{{- $c := .Values.tap.snapshots.cloud -}}
{{- if eq $c.provider "s3" -}}
{{- if not $c.s3.bucket }}{{ fail "tap.snapshots.cloud.provider s3 needs tap.snapshots.cloud.s3.bucket" }}{{ end -}}
{{- if ne (empty $c.s3.accessKey) (empty $c.s3.secretKey) }}{{ fail "tap.snapshots.cloud.s3.accessKey and secretKey are given together or not at all" }}{{ end -}}
{{- $prefix := trimAll "/" $c.prefix }}
- name: RAWCAP_SNAPSHOT_REMOTE
  value: {{ printf "s3://%s%s%s" $c.s3.bucket (ternary "/" "" (ne $prefix "")) $prefix | quote }}
{{- with $c.s3.region }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with $c.s3.endpoint }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ . | quote }}
{{- end }}
{{- with $c.s3.roleArn }}
- name: AWS_ROLE_ARN
  value: {{ . | quote }}
- name: AWS_WEB_IDENTITY_TOKEN_FILE
  value: /var/run/secrets/eks.amazonaws.com/serviceaccount/token
{{- end }}
{{- end -}}
{{- end -}}

{{/* The snapshotter's environment from existing ConfigMaps and Secrets, and the chart's own S3 key Secret. */}}
{{- define "rawcap.snapshotCloudEnvFrom" -}}
{{- $c := .Values.tap.snapshots.cloud -}}
{{- if eq $c.provider "s3" -}}
{{- range $c.configMaps }}
- configMapRef:
    name: {{ . }}
{{- end }}
{{- range $c.secrets }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- if $c.s3.accessKey }}
- secretRef:
    name: {{ include "rawcap.fullname" . }}-s3
{{- end }}
{{- end -}}
{{- end -}}
