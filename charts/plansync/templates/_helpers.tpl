{{- define "plansync.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "plansync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* selectorLabels: (dict "ctx" $ "component" "api") */}}
{{- define "plansync.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "plansync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "plansync.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "plansync.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "plansync.databaseSecret" -}}
{{- if .Values.database.url -}}{{ include "plansync.fullname" . }}-database{{- else -}}{{ required "database.existingSecret or database.url is required" .Values.database.existingSecret }}{{- end -}}
{{- end -}}

{{- define "plansync.redisSecret" -}}
{{- if .Values.redis.url -}}{{ include "plansync.fullname" . }}-redis{{- else -}}{{ .Values.redis.existingSecret }}{{- end -}}
{{- end -}}

{{/* Environment every component shares: connection URLs from Secrets, logging, tracing. */}}
{{- define "plansync.commonEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "plansync.databaseSecret" . }}
      key: {{ .Values.database.secretKey }}
{{- if include "plansync.redisSecret" . }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "plansync.redisSecret" . }}
      key: {{ .Values.redis.secretKey }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if .Values.otel.enabled }}
- name: OTEL_ENABLED
  value: "true"
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "otel.endpoint is required when otel.enabled" .Values.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['app.kubernetes.io/component']
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every Deployment: (dict "ctx" $ "component" "api" "values" .Values.api) */}}
{{- define "plansync.podSpec" -}}
serviceAccountName: {{ include "plansync.serviceAccountName" .ctx }}
automountServiceAccountToken: {{ eq .component "controller" }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  # Read-only root filesystem: /tmp is the only writable place (spooled provider snapshots).
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "plansync.podMeta" -}}
labels:
  {{- include "plansync.labels" .ctx | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
  {{- with .ctx.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .ctx.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Probes and port for the workers' /metrics, /healthz and /readyz server. */}}
{{- define "plansync.workerContainerCommon" -}}
image: {{ include "plansync.image" .ctx }}
imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .ctx.Values.securityContext | nindent 2 }}
ports:
  - name: metrics
    containerPort: 9464
livenessProbe:
  httpGet: { path: /healthz, port: metrics }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: metrics }
  periodSeconds: 5
volumeMounts:
  - name: tmp
    mountPath: /tmp
resources:
  {{- toYaml .values.resources | nindent 2 }}
{{- end -}}

{{/* What the controller may do with PlanSources, wherever it watches them. */}}
{{- define "plansync.plansourceRules" -}}
- apiGroups: [plansync.dev]
  resources: [plansources]
  verbs: [get, list, watch, patch, update]
- apiGroups: [plansync.dev]
  resources: [plansources/status]
  verbs: [get, patch, update]
- apiGroups: [plansync.dev]
  resources: [plansources/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
# provider headers (spec.provider.headersFrom.secretRef)
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end -}}
