{{/* Names, labels and the per-worker view that every template shares. */}}

{{- define "busway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "busway.fullname" -}}
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

{{/* The generated access table (files/access.yaml): zone, scaling, NATS user and inbox of every worker. */}}
{{- define "busway.access" -}}
{{- .Files.Get "files/access.yaml" -}}
{{- end -}}

{{- define "busway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "busway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: busway
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select one worker's pods: ctx is (dict "root" $ "name" <worker>). */}}
{{- define "busway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "busway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "busway.workerLabels" -}}
{{ include "busway.labels" .root }}
app.kubernetes.io/component: {{ .name }}
busway.io/zone: {{ .access.zone }}
{{- end -}}

{{- define "busway.workerFullname" -}}
{{- printf "%s-%s" (include "busway.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "busway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "busway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "busway.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The enabled workers as a list of dicts {name, values, access}: values are `defaults` with each key the worker's
own entry sets replaced (shallow, so `false` and 0 override too), access is its row of files/access.yaml. Fails on a worker the access table does not know, and on a
replica count or autoscaling that its scaling kind forbids.
*/}}
{{- define "busway.enabledWorkers" -}}
{{- $access := (include "busway.access" . | fromYaml).workers -}}
{{- $out := list -}}
{{- range $name, $own := .Values.workers -}}
{{- if not (hasKey $access $name) -}}
{{- fail (printf "workers.%s: no such worker in files/access.yaml (generated from packages/runtime/src/nats-access.ts)" $name) -}}
{{- end -}}
{{- if $own.enabled -}}
{{- $row := get $access $name -}}
{{- $v := deepCopy $.Values.defaults -}}
{{- range $key, $value := $own -}}
{{- $_ := set $v $key $value -}}
{{- end -}}
{{- $replicas := int (default 1 $v.replicas) -}}
{{- $autoscaling := and $v.autoscaling $v.autoscaling.enabled -}}
{{- if and (eq $row.scaling "singleton") (or (gt $replicas 1) $autoscaling) -}}
{{- fail (printf "workers.%s is a singleton (one session with its source): replicas must be 1 and autoscaling off" $name) -}}
{{- end -}}
{{- if and (eq $row.scaling "partitioned") $autoscaling -}}
{{- fail (printf "workers.%s owns partitions per replica: scale it by setting replicas (every replica restarts to re-balance), not by autoscaling" $name) -}}
{{- end -}}
{{- if and (eq $row.scaling "partitioned") (lt (int (default 1 $v.partitionCount)) $replicas) -}}
{{- fail (printf "workers.%s: partitionCount (%d) must be at least replicas (%d)" $name (int (default 1 $v.partitionCount)) $replicas) -}}
{{- end -}}
{{- $out = append $out (dict "name" $name "values" $v "access" $row "replicas" $replicas) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "workers" $out) -}}
{{- end -}}

{{/* The config file every worker reads: top-level keys, then each enabled worker's own section. */}}
{{- define "busway.configFile" -}}
{{- $workers := (include "busway.enabledWorkers" . | fromYaml).workers -}}
{{- $sections := dict -}}
{{- range $workers -}}
{{- $section := deepCopy (default (dict) .values.config) -}}
{{- if eq .access.scaling "partitioned" -}}
{{- /* the provisioning Job reads them here to make every partition's consumers */ -}}
{{- $_ := set $section "partitionCount" (int (default 1 .values.partitionCount)) -}}
{{- $_ := set $section "replicas" (int .replicas) -}}
{{- end -}}
{{- $_ := set $sections .name $section -}}
{{- end -}}
{{- $doc := mergeOverwrite (deepCopy .Values.config) (dict "site" .Values.site "logLevel" .Values.logLevel "workers" $sections) -}}
{{- toYaml $doc -}}
{{- end -}}

{{/* NATS connection env and mounts for a user: ctx is (dict "root" $ "user" <worker|provisioner> "tlsClientSecret" <name>). */}}
{{- define "busway.natsEnv" -}}
{{- $nats := .root.Values.nats -}}
- name: NATS_URL
  value: {{ $nats.url | quote }}
{{- if eq $nats.auth.mode "password" }}
- name: NATS_USER
  value: {{ printf "busway-%s" .user | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "nats.auth.existingSecret is required with nats.auth.mode=password" $nats.auth.existingSecret | quote }}
      key: {{ .user | quote }}
{{- else if eq $nats.auth.mode "creds" }}
- name: NATS_CREDS
  value: {{ printf "/etc/busway/nats-creds/busway-%s.creds" .user | quote }}
{{- end }}
{{- if $nats.tls.enabled }}
- name: NATS_TLS_CA
  value: {{ printf "/etc/busway/nats-ca/%s" $nats.tls.caKey | quote }}
{{- if $nats.tls.mutual }}
- name: NATS_TLS_CERT
  value: {{ printf "/etc/busway/nats-client/%s" $nats.tls.certKey | quote }}
- name: NATS_TLS_KEY
  value: {{ printf "/etc/busway/nats-client/%s" $nats.tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "busway.natsVolumes" -}}
{{- $nats := .root.Values.nats -}}
{{- if eq $nats.auth.mode "creds" }}
- name: nats-creds
  secret:
    secretName: {{ required "nats.auth.existingSecret is required with nats.auth.mode=creds" $nats.auth.existingSecret | quote }}
    defaultMode: 0440
    items:
      - key: {{ printf "busway-%s.creds" .user | quote }}
        path: {{ printf "busway-%s.creds" .user | quote }}
{{- end }}
{{- if $nats.tls.enabled }}
- name: nats-ca
  secret:
    secretName: {{ required "nats.tls.caSecret is required with nats.tls.enabled" $nats.tls.caSecret | quote }}
    items:
      - key: {{ $nats.tls.caKey | quote }}
        path: {{ $nats.tls.caKey | quote }}
{{- if $nats.tls.mutual }}
- name: nats-client
  secret:
    secretName: {{ required "nats.tls.clientSecret (or workers.<name>.tlsClientSecret) is required with nats.tls.mutual" (default $nats.tls.clientSecret .tlsClientSecret) | quote }}
    defaultMode: 0440
    items:
      - key: {{ $nats.tls.certKey | quote }}
        path: {{ $nats.tls.certKey | quote }}
      - key: {{ $nats.tls.keyKey | quote }}
        path: {{ $nats.tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "busway.natsVolumeMounts" -}}
{{- $nats := .root.Values.nats -}}
{{- if eq $nats.auth.mode "creds" }}
- name: nats-creds
  mountPath: /etc/busway/nats-creds
  readOnly: true
{{- end }}
{{- if $nats.tls.enabled }}
- name: nats-ca
  mountPath: /etc/busway/nats-ca
  readOnly: true
{{- if $nats.tls.mutual }}
- name: nats-client
  mountPath: /etc/busway/nats-client
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}
