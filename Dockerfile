# driftwatch's container image: a static binary on distroless, as a non-root
# user, with a health check that needs no shell. Build from the repository's
# root (the .git directory is part of the context so that `driftwatch
# version` reports the commit, from the build information Go embeds):
#
#   docker build -t driftwatch:dev .
#   docker run --rm driftwatch:dev version
#
# deploy/compose.yaml builds it for the whole stack; deploy/helm/driftwatch
# runs it on Kubernetes. Without a container engine, `go test ./deploy/ -run
# TestDockerfile` builds the binary with this file's own build command and
# flags and checks it is static and runs.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=auto -ldflags="-s -w" -o /out/driftwatch ./cmd/driftwatch
# The baselines directory, owned by the non-root user (distroless has no
# shell to create it at run time).
RUN mkdir -p /out/baselines && chown 65532:65532 /out/baselines

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="driftwatch" \
      org.opencontainers.image.description="Streaming drift detection for machine-learning models in production" \
      org.opencontainers.image.source="https://github.com/driftwatch/driftwatch"
COPY --from=build /out/driftwatch /usr/local/bin/driftwatch
COPY --from=build --chown=65532:65532 /out/baselines /var/lib/driftwatch/baselines
COPY deploy/compose/driftwatch.yml /etc/driftwatch/driftwatch.yml
USER 65532:65532
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --retries=3 \
  CMD ["/usr/local/bin/driftwatch", "healthcheck", "--config", "/etc/driftwatch/driftwatch.yml"]
ENTRYPOINT ["/usr/local/bin/driftwatch"]
CMD ["run", "--config", "/etc/driftwatch/driftwatch.yml"]
