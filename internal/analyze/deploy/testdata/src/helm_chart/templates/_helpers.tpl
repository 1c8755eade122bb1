{{- define "tracking.name" -}}{{ .Release.Name }}-tracking{{- end }}
