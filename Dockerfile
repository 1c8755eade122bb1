# mlflow-guard container image: the binary alone, run as a non-root user.
#
#   docker build -t mlflow-guard .
#   docker run --rm --read-only -v "$PWD:/src:ro" mlflow-guard scan /src
#   docker run --rm --read-only --tmpfs /tmp -v mlflow-guard-state:/data -p 8443:8443 \
#     mlflow-guard serve --upstream http://mlflow:5000 --listen 0.0.0.0:8443 \
#     --data-dir /data --tls-cert ... --tls-key ...
#
# The root filesystem can be mounted read-only: scan writes only to stdout
# (or --output); serve writes its state to --data-dir (a volume) or
# PostgreSQL, and spools artifact uploads to the temp dir while it scans
# them (a tmpfs at /tmp, or uploads.spool_dir in a policy file).

# Build stage: tree-sitter is C, so the binary is built with cgo against the
# same glibc (Debian 12) as the runtime stage.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/mlflow-guard/mlflow-guard/internal/cli.Version=$(tr -d ' \n\r' < VERSION)" \
      -o /out/mlflow-guard ./cmd/mlflow-guard \
 && /out/mlflow-guard version \
 && mkdir -p /out/data

# Runtime stage: glibc and CA certificates, no shell, no package manager.
FROM gcr.io/distroless/base-debian12:nonroot
LABEL org.opencontainers.image.title="mlflow-guard" \
      org.opencontainers.image.source="https://github.com/mlflow-guard/mlflow-guard" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/mlflow-guard /usr/local/bin/mlflow-guard
# /data owned by nonroot: a fresh named volume mounted there takes this
# ownership, so serve can write its store without a root init step
COPY --from=build --chown=65532:65532 /out/data /data
# 65532 is distroless's "nonroot"; numeric so Kubernetes runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /src
VOLUME ["/data"]
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/mlflow-guard"]
CMD ["scan", "/src"]
