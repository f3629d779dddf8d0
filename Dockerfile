# Multi-stage build: SQL is checked against the committed .sqlx/ data (SQLX_OFFLINE), so no
# database is needed at build time; only crates.io is. The S3 backend is a default feature;
# CARGO_FLAGS=--no-default-features builds the local backend alone.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
ARG CARGO_FLAGS=
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY src src
COPY migrations migrations
COPY config config
RUN cargo build --release --locked $CARGO_FLAGS

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app jobcenter \
    && mkdir -p /app/var && chown jobcenter /app/var
WORKDIR /app
# var/: object storage (storage.root) and the generated JWT secret; a volume in compose.
COPY --from=build /src/target/release/jobcenter /usr/local/bin/jobcenter
COPY config config
USER jobcenter
ENV JOBCENTER__SERVER__HOST=0.0.0.0 JOBCENTER__SERVER__PORT=8080 JOBCENTER__LOG__FORMAT=json
EXPOSE 8080 9090
# Ready: the database answers and the migrations are current (no token needed).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD curl -fsS "http://127.0.0.1:${JOBCENTER__SERVER__PORT}/health/ready" || exit 1
# SIGTERM drains requests and jobs; give it server.shutdown_timeout_secs before SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["jobcenter"]
CMD ["serve"]
